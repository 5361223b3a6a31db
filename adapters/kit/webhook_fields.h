#pragma once
// What a webhook adapter reads from a request, as configuration: the body as
// fields (JSON or an HTML form), values taken from the body, a header or the
// sub-path, and idempotency keys made of several of them.
//
//   WebhookBody  the body parsed once: a JSON document (depth-capped), or an
//                application/x-www-form-urlencoded form (CloudPayments'
//                notifications, Robokassa's ResultURL, Mango's events).
//   ValueSource  one value: "/json/pointer" (JSON bodies), "field:NAME" (a
//                form field, or a top-level JSON member), "header:NAME",
//                "path:" (the sub-path after /hooks/<id>/).
//   CompositeKey several sources joined with ':' ("<TransactionId>:<Status>"),
//                so that a provider's second status of one payment is a new
//                event, not a duplicate of the first.
//
// Values are text: strings as sent, numbers as JSON writes them (so {"id":12}
// and {"id":"12"} give the same key "12"), booleans "true"/"false"; null,
// arrays, objects and empty strings count as absent.
//
// Immutable once parsed; thread-safe. Never throws.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/json_get.h"
#include "base/status.h"
#include "net/http_types.h"

namespace crmhub::adapters::kit {

enum class BodyFormat { kJson, kForm };
// "json" / "form"; nullopt for anything else.
std::optional<BodyFormat> ParseBodyFormat(std::string_view name);

// An application/x-www-form-urlencoded body: name/value pairs in order,
// '+' and %XX decoded. InvalidArgument for a bad %-escape.
Result<std::vector<std::pair<std::string, std::string>>> ParseForm(std::string_view body);

class WebhookBody {
 public:
  // InvalidArgument with the reason ("body is not valid JSON", "JSON nested
  // deeper than 64 levels", "bad %-escape in the form body").
  static Result<WebhookBody> Parse(std::string_view body, BodyFormat format);

  BodyFormat format() const { return format_; }
  // The JSON document, or the form as an object of strings (a repeated
  // field keeps its first value).
  const nlohmann::json& document() const { return document_; }
  // A top-level member or form field as text (see the header comment).
  std::optional<std::string> Field(std::string_view name) const;
  // What is queued as the record: the body as received for JSON (kept byte
  // for byte), the form as a JSON object of strings.
  std::string Payload(std::string_view raw_body) const;

 private:
  BodyFormat format_ = BodyFormat::kJson;
  nlohmann::json document_;
};

class ValueSource {
 public:
  static Result<ValueSource> Parse(std::string_view spec);
  // The value, or nullopt when absent or empty.
  std::optional<std::string> Read(const net::HttpRequest& request, const WebhookBody& body,
                                  std::string_view sub_path) const;
  const std::string& spec() const { return spec_; }
  // True for "/pointer" sources, which need a JSON body.
  bool is_pointer() const { return kind_ == Kind::kPointer; }
  // True when the value comes from the body (a pointer or a field).
  bool reads_body() const { return kind_ == Kind::kPointer || kind_ == Kind::kField; }

 private:
  enum class Kind { kPointer, kField, kHeader, kPath };
  Kind kind_ = Kind::kPointer;
  std::string spec_;
  std::string name_;  // field or header name
  JsonPointer pointer_;
};

class CompositeKey {
 public:
  // One or more sources; InvalidArgument names the bad one.
  static Result<CompositeKey> Parse(const std::vector<std::string>& specs);
  // The parts joined with ':', or InvalidArgument naming the missing part.
  Result<std::string> Read(const net::HttpRequest& request, const WebhookBody& body,
                           std::string_view sub_path) const;
  const std::vector<ValueSource>& parts() const { return parts_; }
  std::string Describe() const;  // the specs joined with " + "

 private:
  std::vector<ValueSource> parts_;
};

}  // namespace crmhub::adapters::kit
