#include "net/signature.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/secret.h"

namespace crmhub::net {
namespace {

struct DigestName {
  std::string_view name;
  SignatureScheme::Digest digest;
  HmacAlgorithm hash;
  bool keyed;
};
constexpr DigestName kDigests[] = {
    {"hmac-sha256", SignatureScheme::Digest::kHmacSha256, HmacAlgorithm::kSha256, true},
    {"hmac-sha1", SignatureScheme::Digest::kHmacSha1, HmacAlgorithm::kSha1, true},
    {"hmac-sha512", SignatureScheme::Digest::kHmacSha512, HmacAlgorithm::kSha512, true},
    {"hmac-md5", SignatureScheme::Digest::kHmacMd5, HmacAlgorithm::kMd5, true},
    {"sha256", SignatureScheme::Digest::kSha256, HmacAlgorithm::kSha256, false},
    {"sha1", SignatureScheme::Digest::kSha1, HmacAlgorithm::kSha1, false},
    {"md5", SignatureScheme::Digest::kMd5, HmacAlgorithm::kMd5, false},
    {"sha384", SignatureScheme::Digest::kSha384, HmacAlgorithm::kSha384, false},
    {"sha512", SignatureScheme::Digest::kSha512, HmacAlgorithm::kSha512, false},
};

const DigestName& Find(SignatureScheme::Digest digest) {
  for (const auto& d : kDigests) {
    if (d.digest == digest) return d;
  }
  return kDigests[0];
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

Result<SignatureScheme> SignatureScheme::Parse(std::string_view algorithm,
                                               std::string_view encoding,
                                               std::string_view message_template) {
  SignatureScheme s;
  bool known = false;
  for (const auto& d : kDigests) {
    if (d.name == algorithm) {
      s.digest_ = d.digest;
      known = true;
    }
  }
  if (!known) {
    return Status::InvalidArgument(fmt::format(
        "unknown signature algorithm \"{}\" (hmac-sha256, hmac-sha1, hmac-sha512, hmac-md5, "
        "sha256, sha1, md5, sha384, sha512)",
        algorithm));
  }
  if (encoding == "hex") {
    s.encoding_ = Encoding::kHex;
  } else if (encoding == "base64") {
    s.encoding_ = Encoding::kBase64;
  } else if (encoding == "base64-of-hex") {
    s.encoding_ = Encoding::kBase64OfHex;
  } else {
    return Status::InvalidArgument(
        fmt::format("unknown signature encoding \"{}\" (hex, base64, base64-of-hex)", encoding));
  }
  s.template_text_ = std::string(message_template);
  std::string text;
  auto flush = [&] {
    if (!text.empty()) s.parts_.push_back({Part::Kind::kText, std::move(text)});
    text.clear();
  };
  bool uses_secret = false;
  for (size_t i = 0; i < message_template.size(); ++i) {
    const char c = message_template[i];
    if (c == '}') {
      if (i + 1 < message_template.size() && message_template[i + 1] == '}') {
        text += '}';
        ++i;
        continue;
      }
      return Status::InvalidArgument("signature message: a lone '}' (write \"}}\" for a brace)");
    }
    if (c != '{') {
      text += c;
      continue;
    }
    if (i + 1 < message_template.size() && message_template[i + 1] == '{') {
      text += '{';
      ++i;
      continue;
    }
    const size_t end = message_template.find('}', i);
    if (end == std::string_view::npos) {
      return Status::InvalidArgument("signature message: '{' without its '}'");
    }
    const std::string_view name = message_template.substr(i + 1, end - i - 1);
    flush();
    if (name == "body") {
      s.parts_.push_back({Part::Kind::kBody, {}});
    } else if (name == "secret") {
      s.parts_.push_back({Part::Kind::kSecret, {}});
      uses_secret = true;
    } else if (name.starts_with("field:") && name.size() > 6) {
      s.parts_.push_back({Part::Kind::kField, std::string(name.substr(6))});
    } else if (name.starts_with("header:") && name.size() > 7) {
      s.parts_.push_back({Part::Kind::kHeader, std::string(name.substr(7))});
    } else {
      return Status::InvalidArgument(fmt::format(
          "signature message: unknown placeholder {{{}}} (body, secret, field:NAME, header:NAME)",
          name));
    }
    i = end;
  }
  flush();
  if (s.parts_.empty()) return Status::InvalidArgument("signature message: empty");
  if (!Find(s.digest_).keyed && !uses_secret) {
    // A plain digest of what anyone can see proves nothing.
    return Status::InvalidArgument(fmt::format(
        "signature message: {} is not keyed, so the message must contain {{secret}}", algorithm));
  }
  return s;
}

Result<std::string> SignatureScheme::Compute(std::string_view secret, const Inputs& inputs) const {
  const DigestName& d = Find(digest_);
  std::string raw;
  if (parts_.size() == 1 && parts_[0].kind == Part::Kind::kBody) {
    // The common case, on the intake's hot path: the body itself, uncopied.
    raw = Hmac(d.hash, secret, inputs.body);
  } else {
    Result<std::string> message = Message(secret, inputs);
    if (!message.ok()) return message.status();
    raw = d.keyed ? Hmac(d.hash, secret, *message) : Hash(d.hash, *message);
    std::fill(message->begin(), message->end(), '\0');  // it may hold the secret
  }
  switch (encoding_) {
    case Encoding::kHex:
      return HexEncode(raw);
    case Encoding::kBase64:
      return Base64Encode(raw);
    case Encoding::kBase64OfHex:
      return Base64Encode(HexEncode(raw));
  }
  return HexEncode(raw);
}

Result<std::string> SignatureScheme::Message(std::string_view secret, const Inputs& inputs) const {
  std::string message;
  for (const Part& part : parts_) {
    switch (part.kind) {
      case Part::Kind::kText:
        message += part.text;
        break;
      case Part::Kind::kBody:
        message += inputs.body;
        break;
      case Part::Kind::kSecret:
        message += secret;
        break;
      case Part::Kind::kField:
      case Part::Kind::kHeader: {
        const bool field = part.kind == Part::Kind::kField;
        const auto& lookup = field ? inputs.field : inputs.header;
        std::optional<std::string> value = lookup ? lookup(part.text) : std::nullopt;
        if (!value) {
          return Status::InvalidArgument(fmt::format("the signed {} \"{}\" is missing",
                                                     field ? "field" : "header", part.text));
        }
        message += *value;
        break;
      }
    }
  }
  return message;
}

bool SignatureScheme::Verify(std::string_view secret, const Inputs& inputs,
                             std::string_view presented, std::string_view prefix) const {
  while (!presented.empty() && (presented.front() == ' ' || presented.front() == '\t')) {
    presented.remove_prefix(1);
  }
  while (!presented.empty() && (presented.back() == ' ' || presented.back() == '\t')) {
    presented.remove_suffix(1);
  }
  if (!prefix.empty() && AsciiLower(presented.substr(0, prefix.size())) == AsciiLower(prefix)) {
    presented.remove_prefix(prefix.size());
  }
  Result<std::string> expected = Compute(secret, inputs);
  if (!expected.ok()) return false;
  // Hex digests are compared case-insensitively (senders differ).
  if (encoding_ == Encoding::kHex) return ConstantTimeEquals(*expected, AsciiLower(presented));
  return ConstantTimeEquals(*expected, presented);
}

bool SignatureScheme::uses_fields() const {
  return std::any_of(parts_.begin(), parts_.end(),
                     [](const Part& p) { return p.kind == Part::Kind::kField; });
}

std::string SignatureScheme::Describe() const {
  const char* encoding = encoding_ == Encoding::kHex      ? "hex"
                         : encoding_ == Encoding::kBase64 ? "base64"
                                                          : "base64-of-hex";
  return fmt::format("{}/{} over {}", Find(digest_).name, encoding, template_text_);
}

}  // namespace crmhub::net
