#include "net/jwt_rs256.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <nlohmann/json.hpp>

#include "base/json_get.h"
#include "net/hmac.h"

namespace crmhub::net {

struct Rs256Verifier::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

namespace {

using nlohmann::json;

EVP_PKEY* FromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return nullptr;
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return key;
}

EVP_PKEY* FromJwk(const json& jwk) {
  std::optional<std::string_view> kty = JsonString(jwk, "kty");
  std::optional<std::string_view> n64 = JsonString(jwk, "n");
  std::optional<std::string_view> e64 = JsonString(jwk, "e");
  if (!kty || *kty != "RSA" || !n64 || !e64) return nullptr;
  Result<std::string> n = Base64UrlDecode(*n64);
  Result<std::string> e = Base64UrlDecode(*e64);
  if (!n.ok() || !e.ok() || n->empty() || e->empty()) return nullptr;
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                           static_cast<int>(n->size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                           static_cast<int>(e->size()), nullptr);
  EVP_PKEY* key = nullptr;
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM* params = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  if (bn_n != nullptr && bn_e != nullptr && bld != nullptr && ctx != nullptr &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1 &&
      (params = OSSL_PARAM_BLD_to_param(bld)) != nullptr && EVP_PKEY_fromdata_init(ctx) == 1) {
    if (EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) key = nullptr;
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return key;
}

}  // namespace

Rs256Verifier::Rs256Verifier(std::unique_ptr<Key> key) : key_(std::move(key)) {}
Rs256Verifier::~Rs256Verifier() = default;
Rs256Verifier::Rs256Verifier(Rs256Verifier&&) noexcept = default;
Rs256Verifier& Rs256Verifier::operator=(Rs256Verifier&&) noexcept = default;

Result<Rs256Verifier> Rs256Verifier::FromKeyText(std::string_view text) {
  auto key = std::make_unique<Key>();
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '{') {
    Result<json> jwk = ParseJson(text);
    if (jwk.ok()) key->pkey = FromJwk(*jwk);
  } else if (text.find("-----BEGIN") != std::string_view::npos) {
    key->pkey = FromPem(text);
  }
  if (key->pkey == nullptr || EVP_PKEY_get_base_id(key->pkey) != EVP_PKEY_RSA) {
    return Status::InvalidArgument(
        "not an RSA public key (expected PEM \"-----BEGIN PUBLIC KEY-----\" or a JWK with kty "
        "RSA, n and e)");
  }
  return Rs256Verifier(std::move(key));
}

Result<std::string> Rs256Verifier::Verify(std::string_view token, SystemTime now,
                                          std::chrono::seconds leeway) const {
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.remove_suffix(1);
  }
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Status::Unauthenticated("not a JWT (expected header.payload.signature)");
  }
  Result<std::string> header = Base64UrlDecode(token.substr(0, dot1));
  Result<std::string> payload = Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  Result<std::string> signature = Base64UrlDecode(token.substr(dot2 + 1));
  if (!header.ok() || !payload.ok() || !signature.ok()) {
    return Status::Unauthenticated("a JWT part is not base64url");
  }
  Result<json> h = ParseJson(*header);
  std::optional<std::string_view> alg = h.ok() ? JsonString(*h, "alg") : std::nullopt;
  if (!alg || *alg != "RS256") return Status::Unauthenticated("the JWT is not RS256");
  const std::string_view signed_part = token.substr(0, dot2);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool valid = ctx != nullptr &&
               EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key_->pkey) == 1 &&
               EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature->data()),
                                signature->size(),
                                reinterpret_cast<const unsigned char*>(signed_part.data()),
                                signed_part.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!valid) return Status::Unauthenticated("the JWT's signature does not verify");
  Result<json> claims = ParseJson(*payload);
  if (!claims.ok() || !claims->is_object()) {
    return Status::Unauthenticated("the JWT's payload is not a JSON object");
  }
  const int64_t now_s = ToUnixMillis(now) / 1000;
  if (auto exp = claims->find("exp"); exp != claims->end()) {
    std::optional<int64_t> v = JsonInt(*claims, "exp");
    if (!v) return Status::Unauthenticated("the JWT's exp is not a number");
    if (*v + leeway.count() <= now_s) return Status::Unauthenticated("the JWT has expired");
  }
  if (auto nbf = claims->find("nbf"); nbf != claims->end()) {
    std::optional<int64_t> v = JsonInt(*claims, "nbf");
    if (!v) return Status::Unauthenticated("the JWT's nbf is not a number");
    if (*v - leeway.count() > now_s) return Status::Unauthenticated("the JWT is not valid yet");
  }
  return std::move(payload).value();
}

}  // namespace crmhub::net
