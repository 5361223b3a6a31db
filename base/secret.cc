#include "base/secret.h"

#include <openssl/crypto.h>

namespace crmhub {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Length is not secret (HMAC digests and tokens have known lengths); the
  // content comparison is done by OpenSSL's constant-time primitive.
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Secret::~Secret() {
  if (!value_.empty()) OPENSSL_cleanse(value_.data(), value_.size());
}

}  // namespace crmhub
