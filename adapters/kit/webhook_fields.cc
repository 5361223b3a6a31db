#include "adapters/kit/webhook_fields.h"

#include <fmt/format.h>

#include "base/json_validate.h"

namespace crmhub::adapters::kit {
namespace {

std::optional<std::string> NonEmpty(std::optional<std::string> v) {
  if (v && v->empty()) return std::nullopt;
  return v;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> FormDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= in.size() + 0 || HexValue(in[i + 1]) < 0 || HexValue(in[i + 2]) < 0) {
        return Status::InvalidArgument("bad %-escape in the form body");
      }
      out += static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::optional<BodyFormat> ParseBodyFormat(std::string_view name) {
  if (name == "json") return BodyFormat::kJson;
  if (name == "form") return BodyFormat::kForm;
  return std::nullopt;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseForm(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> fields;
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t amp = body.find('&', pos);
    if (amp == std::string_view::npos) amp = body.size();
    const std::string_view pair = body.substr(pos, amp - pos);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      auto name = FormDecode(pair.substr(0, eq));
      if (!name.ok()) return name.status();
      auto value =
          FormDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
      if (!value.ok()) return value.status();
      fields.emplace_back(std::move(*name), std::move(*value));
    }
    pos = amp + 1;
  }
  return fields;
}

Result<WebhookBody> WebhookBody::Parse(std::string_view body, BodyFormat format) {
  WebhookBody out;
  out.format_ = format;
  if (format == BodyFormat::kJson) {
    // IsValidJson first: it is strict where nlohmann is lenient (a NUL byte
    // after the document), and it allocates nothing for a refusal.
    if (!JsonDepthWithin(body, kMaxJsonDepth)) {
      return Status::InvalidArgument("JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                                     " levels");
    }
    if (!IsValidJson(body)) return Status::InvalidArgument("body is not valid JSON");
    Result<nlohmann::json> doc = ParseJson(body);
    if (!doc.ok()) return doc.status();
    out.document_ = std::move(doc).value();
    return out;
  }
  auto fields = ParseForm(body);
  if (!fields.ok()) return fields.status();
  out.document_ = nlohmann::json::object();
  for (auto& [name, value] : *fields) {
    // The record is kept as JSON, which holds UTF-8 only: a field in
    // another encoding is refused with its name rather than altered.
    if (!IsValidUtf8(name) || !IsValidUtf8(value)) {
      return Status::InvalidArgument(fmt::format("form field \"{}\" is not UTF-8 text",
                                                 IsValidUtf8(name) ? name : "(not UTF-8)"));
    }
    if (!out.document_.contains(name)) out.document_[name] = std::move(value);
  }
  return out;
}

std::optional<std::string> WebhookBody::Field(std::string_view name) const {
  const nlohmann::json* v = JsonMember(document_, name);
  return v ? NonEmpty(JsonScalarText(*v)) : std::nullopt;
}

std::string WebhookBody::Payload(std::string_view raw_body) const {
  if (format_ == BodyFormat::kJson) return std::string(raw_body);
  // An object of UTF-8 strings (checked in Parse): one level, no recursion
  // to fear, nothing for dump() to throw on.
  return document_.dump();
}

Result<ValueSource> ValueSource::Parse(std::string_view spec) {
  ValueSource s;
  s.spec_ = std::string(spec);
  auto named = [&](std::string_view prefix, Kind kind) -> std::optional<Status> {
    if (spec.substr(0, prefix.size()) != prefix) return std::nullopt;
    s.kind_ = kind;
    s.name_ = std::string(spec.substr(prefix.size()));
    if (s.name_.empty()) {
      return Status::InvalidArgument(fmt::format("\"{}\" needs a name after the colon", spec));
    }
    return Status::Ok();
  };
  if (auto st = named("field:", Kind::kField)) return st->ok() ? Result<ValueSource>(s) : *st;
  if (auto st = named("header:", Kind::kHeader)) return st->ok() ? Result<ValueSource>(s) : *st;
  if (spec == "path:") {
    s.kind_ = Kind::kPath;
    return s;
  }
  if (spec.empty() || spec.front() != '/') {
    return Status::InvalidArgument(fmt::format(
        "\"{}\": expected a JSON pointer such as \"/id\", \"field:NAME\", \"header:NAME\" or "
        "\"path:\"",
        spec));
  }
  auto pointer = JsonPointer::Parse(spec);
  if (!pointer.ok()) return pointer.status();
  s.kind_ = Kind::kPointer;
  s.pointer_ = std::move(pointer).value();
  return s;
}

std::optional<std::string> ValueSource::Read(const net::HttpRequest& request,
                                             const WebhookBody& body,
                                             std::string_view sub_path) const {
  switch (kind_) {
    case Kind::kPointer: {
      const nlohmann::json* v = JsonFind(body.document(), pointer_);
      return v ? NonEmpty(JsonScalarText(*v)) : std::nullopt;
    }
    case Kind::kField:
      return body.Field(name_);
    case Kind::kHeader: {
      std::optional<std::string_view> v = request.headers.Get(name_);
      if (!v) return std::nullopt;
      while (!v->empty() && (v->front() == ' ' || v->front() == '\t')) v->remove_prefix(1);
      while (!v->empty() && (v->back() == ' ' || v->back() == '\t')) v->remove_suffix(1);
      return NonEmpty(std::string(*v));
    }
    case Kind::kPath:
      return NonEmpty(std::string(sub_path));
  }
  return std::nullopt;
}

Result<CompositeKey> CompositeKey::Parse(const std::vector<std::string>& specs) {
  if (specs.empty()) return Status::InvalidArgument("name at least one part of the key");
  CompositeKey key;
  for (const std::string& spec : specs) {
    auto part = ValueSource::Parse(spec);
    if (!part.ok()) return part.status();
    key.parts_.push_back(std::move(part).value());
  }
  return key;
}

Result<std::string> CompositeKey::Read(const net::HttpRequest& request, const WebhookBody& body,
                                       std::string_view sub_path) const {
  std::string out;
  for (size_t i = 0; i < parts_.size(); ++i) {
    std::optional<std::string> v = parts_[i].Read(request, body, sub_path);
    if (!v) {
      return Status::InvalidArgument(
          fmt::format("idempotency key missing: no value at {}", parts_[i].spec()));
    }
    if (i > 0) out += ':';
    out += *v;
  }
  return out;
}

std::string CompositeKey::Describe() const {
  std::string out;
  for (const auto& p : parts_) out += (out.empty() ? "" : " + ") + p.spec();
  return out;
}

}  // namespace crmhub::adapters::kit
