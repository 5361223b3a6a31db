#pragma once
// Rs256Verifier: checks a compact JWT signed with RS256 (RSASSA-PKCS1-v1_5
// with SHA-256, RFC 7518 §3.3) against one RSA public key, for systems that
// sign what they push to us with their private key (Tochka's webhooks:
// contracts/banks/README.md §2).
//
// Verify accepts a token only when: it has three base64url parts; the header
// is JSON naming "alg": "RS256" (any other alg, "none" included, is refused:
// the key decides the algorithm, never the token); the signature verifies
// over "<header>.<payload>"; the payload is a JSON object; and, when the
// payload has them, "exp" is after `now` and "nbf" not after it (NumericDate
// seconds, with `leeway` either way). The payload's text is returned.
//
// Immutable after construction; thread-safe.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"

namespace crmhub::net {

class Rs256Verifier {
 public:
  // `key_text`: a PEM public key ("-----BEGIN PUBLIC KEY-----", what
  // `openssl rsa -pubout` writes) or an RSA JWK ({"kty":"RSA","n":...,
  // "e":...}, base64url: the form Tochka publishes).
  // InvalidArgument when it is neither.
  static Result<Rs256Verifier> FromKeyText(std::string_view key_text);

  // The payload (JSON text) of a valid token; Unauthenticated naming what
  // failed otherwise (never echoing the token).
  Result<std::string> Verify(std::string_view token, SystemTime now,
                             std::chrono::seconds leeway = std::chrono::seconds(60)) const;

  ~Rs256Verifier();
  Rs256Verifier(Rs256Verifier&&) noexcept;
  Rs256Verifier& operator=(Rs256Verifier&&) noexcept;

 private:
  struct Key;
  explicit Rs256Verifier(std::unique_ptr<Key> key);
  std::unique_ptr<Key> key_;
};

}  // namespace crmhub::net
