#pragma once
// Message authentication and encoding helpers for webhook signatures
// (CloudPayments Content-HMAC, marketplace/bank signatures): HMAC with
// SHA-1/SHA-256/SHA-512/MD5 (OpenSSL), SHA-256, hex and base64.
//
// All functions are pure and thread-safe. Compare a computed signature with
// a presented one through ConstantTimeEquals (base/secret.h), never ==.

#include <string>
#include <string_view>

#include "base/status.h"

namespace crmhub::net {

enum class HmacAlgorithm { kMd5, kSha1, kSha256, kSha512, kSha384 };

// Raw MAC bytes (16, 20, 32, 64 or 48 of them).
std::string Hmac(HmacAlgorithm algorithm, std::string_view key, std::string_view message);
// Lowercase hex of the MAC.
std::string HmacHex(HmacAlgorithm algorithm, std::string_view key, std::string_view message);
// Standard base64 (with padding) of the MAC.
std::string HmacBase64(HmacAlgorithm algorithm, std::string_view key, std::string_view message);

// A plain digest (no key) with the algorithm's hash: raw bytes.
std::string Hash(HmacAlgorithm algorithm, std::string_view data);
// Raw SHA-256 digest, and its lowercase hex.
std::string Sha256(std::string_view data);
std::string Sha256Hex(std::string_view data);

// Lowercase hex of arbitrary bytes; HexDecode accepts either case.
std::string HexEncode(std::string_view bytes);
Result<std::string> HexDecode(std::string_view hex);

// RFC 4648 base64. Base64 uses the standard alphabet with '=' padding;
// Base64Url the URL-safe alphabet without padding. Decoding rejects
// characters outside the alphabet (including whitespace); padding is
// optional on decode for both.
std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);
std::string Base64UrlEncode(std::string_view bytes);
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace crmhub::net
