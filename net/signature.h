#pragma once
// SignatureScheme: how a sender signs what it sends, as data, so that a new
// provider's check is configuration rather than code.
//
//   algorithm  hmac-sha256 (default), hmac-sha1, hmac-sha512, hmac-md5
//              (keyed with the secret), or sha256, sha1, md5, sha384, sha512 (a plain digest:
//              the secret goes into the message through {secret})
//   encoding   hex (compared case-insensitively), base64, or base64-of-hex
//              (Zadarma: base64 of the hex text of the digest)
//   message    what is signed, a template: "{body}" (the raw body, the
//              default), "{field:NAME}" (a form field or a top-level JSON
//              member, as text), "{header:NAME}", "{secret}", "{{" and "}}"
//              for braces; any other text as is. Examples:
//                CloudPayments Content-HMAC   hmac-sha256, base64, "{body}"
//                Mango Office sign            sha256, hex,
//                                             "{field:vpbx_api_key}{field:json}{secret}"
//                Robokassa ResultURL          md5, hex,
//                                             "{field:OutSum}:{field:InvId}:{secret}"
//
// Verify compares in constant time. A presented signature may carry a
// prefix that is stripped first ("sha256=" on GitHub-style headers).
//
// Immutable once parsed; thread-safe.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "net/hmac.h"

namespace crmhub::net {

class SignatureScheme {
 public:
  enum class Digest {
    kHmacSha256,
    kHmacSha1,
    kHmacSha512,
    kHmacMd5,
    kSha256,
    kSha1,
    kMd5,
    kSha384,  // Robokassa's hash_algorithm choices
    kSha512,
  };
  enum class Encoding { kHex, kBase64, kBase64OfHex };

  // Parses the three parts; InvalidArgument names the part and what is
  // accepted.
  static Result<SignatureScheme> Parse(std::string_view algorithm, std::string_view encoding,
                                       std::string_view message_template);

  // What a template refers to, supplied by the caller for one request.
  struct Inputs {
    std::string_view body;
    std::function<std::optional<std::string>(std::string_view name)> field;
    std::function<std::optional<std::string>(std::string_view name)> header;
  };

  // The expected signature, or InvalidArgument when the template names a
  // field or header the request does not have.
  Result<std::string> Compute(std::string_view secret, const Inputs& inputs) const;
  // Whether `presented` (after stripping `prefix`, if it starts with it) is
  // the expected signature. Constant time in the signature's length.
  bool Verify(std::string_view secret, const Inputs& inputs, std::string_view presented,
              std::string_view prefix = {}) const;

  Digest digest() const { return digest_; }
  // True when the message names a {field:...} (the body must be parsed).
  bool uses_fields() const;
  Encoding encoding() const { return encoding_; }
  // "hmac-sha256/base64 over {body}" for descriptions.
  std::string Describe() const;

 private:
  // The signed message: the template with its placeholders filled in.
  Result<std::string> Message(std::string_view secret, const Inputs& inputs) const;

  struct Part {
    enum class Kind { kText, kBody, kField, kHeader, kSecret };
    Kind kind;
    std::string text;  // literal text, or the field/header name
  };
  Digest digest_ = Digest::kHmacSha256;
  Encoding encoding_ = Encoding::kHex;
  std::string template_text_;
  std::vector<Part> parts_;
};

}  // namespace crmhub::net
