#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/secret.h"
#include "net/cidr.h"
#include "net/hmac.h"

namespace crmhub::net {
namespace {

TEST(HmacTest, Rfc4231AndRfc2202Vectors) {
  const std::string key1(20, '\x0b');
  EXPECT_EQ(HmacHex(HmacAlgorithm::kSha256, key1, "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(HmacHex(HmacAlgorithm::kSha512, key1, "Hi There"),
            "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
            "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
  EXPECT_EQ(HmacHex(HmacAlgorithm::kSha256, "Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HmacHex(HmacAlgorithm::kSha512, "Jefe", "what do ya want for nothing?"),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
            "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
  // Test case 6: a key longer than the block size is hashed first.
  EXPECT_EQ(HmacHex(HmacAlgorithm::kSha256, std::string(131, '\xaa'),
                    "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // RFC 2202 test case 2.
  EXPECT_EQ(HmacHex(HmacAlgorithm::kMd5, "Jefe", "what do ya want for nothing?"),
            "750c783e6ab0b503eaa86e310a5db738");
  EXPECT_EQ(HmacHex(HmacAlgorithm::kSha1, "Jefe", "what do ya want for nothing?"),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(Hmac(HmacAlgorithm::kSha256, "", "").size(), 32u);
}

// Each thread keeps one MAC context per algorithm and re-keys it per call:
// a key must never leak into the next call, least of all an empty key (which
// OpenSSL's EVP_MAC_init would read as "keep the previous key").
TEST(HmacTest, EveryCallUsesItsOwnKey) {
  const std::string kEmptyKeyEmptyMessage =
      "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad";
  EXPECT_EQ(HmacHex(HmacAlgorithm::kSha256, "Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HmacHex(HmacAlgorithm::kSha256, "", ""), kEmptyKeyEmptyMessage);
  EXPECT_EQ(HmacHex(HmacAlgorithm::kSha256, "Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HmacHex(HmacAlgorithm::kSha256, "", ""), kEmptyKeyEmptyMessage);
}

TEST(HmacTest, CloudPaymentsContentHmacVector) {
  std::ifstream in(std::string(CRMHUB_CONTRACTS_DIR) +
                   "/payments/cloudpayments/hmac_test_vector.THIRD_PARTY.json");
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  auto v = nlohmann::json::parse(ss.str());
  std::string computed = HmacBase64(HmacAlgorithm::kSha256, v["api_secret"].get<std::string>(),
                                    v["raw_body"].get<std::string>());
  EXPECT_EQ(computed, v["Content-HMAC"].get<std::string>());
  EXPECT_TRUE(ConstantTimeEquals(computed, v["Content-HMAC"].get<std::string>()));
  // One changed byte of the body changes the signature.
  std::string body = v["raw_body"];
  body[0] = 'o';
  EXPECT_NE(HmacBase64(HmacAlgorithm::kSha256, v["api_secret"].get<std::string>(), body),
            v["Content-HMAC"].get<std::string>());
}

TEST(HmacTest, DigestsAndEncodings) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(std::string("\x00\xff\x10", 3)), "00ff10");
  EXPECT_EQ(HexDecode("00FF10").value(), std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(HexDecode("0").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
  // RFC 4648 section 10.
  const std::pair<const char*, const char*> kVectors[] = {{"", ""},
                                                          {"f", "Zg=="},
                                                          {"fo", "Zm8="},
                                                          {"foo", "Zm9v"},
                                                          {"foob", "Zm9vYg=="},
                                                          {"fooba", "Zm9vYmE="},
                                                          {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : kVectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(decoded.value(), plain);
  }
  EXPECT_EQ(Base64Decode("Zm8").value(), "fo");  // padding optional
  EXPECT_FALSE(Base64Decode("Zm9v!").ok());
  EXPECT_FALSE(Base64Decode("Zm 9v").ok());
  EXPECT_FALSE(Base64Decode("Z===").ok());
  EXPECT_FALSE(Base64Decode("Zh==").ok());  // non-canonical trailing bits
  std::string bytes("\xfb\xff\xfe", 3);
  EXPECT_EQ(Base64Encode(bytes), "+//+");
  EXPECT_EQ(Base64UrlEncode(bytes), "-__-");
  EXPECT_EQ(Base64UrlDecode("-__-").value(), bytes);
  EXPECT_FALSE(Base64UrlDecode("+//+").ok());
}

TEST(CidrTest, Ipv4Ranges) {
  auto r = CidrRange::Parse("127.0.0.0/8");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->Contains("127.0.0.1"));
  EXPECT_TRUE(r->Contains("127.255.255.255"));
  EXPECT_FALSE(r->Contains("128.0.0.1"));
  EXPECT_TRUE(r->Contains("::ffff:127.0.0.1"));  // IPv4-mapped IPv6
  EXPECT_FALSE(r->Contains("::1"));
  EXPECT_FALSE(r->Contains("not-an-ip"));
  EXPECT_FALSE(r->Contains(""));

  auto odd = CidrRange::Parse("192.168.1.77/23");  // host bits are dropped
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->ToString(), "192.168.0.0/23");
  EXPECT_TRUE(odd->Contains("192.168.1.200"));
  EXPECT_FALSE(odd->Contains("192.168.2.1"));

  auto host = CidrRange::Parse("10.1.2.3");
  ASSERT_TRUE(host.ok());
  EXPECT_TRUE(host->Contains("10.1.2.3"));
  EXPECT_FALSE(host->Contains("10.1.2.4"));

  auto all = CidrRange::Parse("0.0.0.0/0");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->Contains("8.8.8.8"));
  EXPECT_FALSE(all->Contains("2001:db8::1"));
}

TEST(CidrTest, Ipv6RangesAndMappedForms) {
  auto lo = CidrRange::Parse("::1/128");
  ASSERT_TRUE(lo.ok());
  EXPECT_TRUE(lo->Contains("::1"));
  EXPECT_TRUE(lo->Contains("0:0:0:0:0:0:0:1"));
  EXPECT_FALSE(lo->Contains("::2"));
  EXPECT_FALSE(lo->Contains("127.0.0.1"));

  auto net = CidrRange::Parse("2001:db8::/33");
  ASSERT_TRUE(net.ok());
  EXPECT_TRUE(net->Contains("2001:db8:7fff::1"));
  EXPECT_FALSE(net->Contains("2001:db8:8000::1"));
  EXPECT_EQ(net->ToString(), "2001:db8::/33");

  auto mapped = CidrRange::Parse("::ffff:10.0.0.0/104");  // = 10.0.0.0/8
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(mapped->ToString(), "10.0.0.0/8");
  EXPECT_TRUE(mapped->Contains("10.9.9.9"));
  EXPECT_TRUE(mapped->Contains("::ffff:10.9.9.9"));

  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "1.2.3/8",
                          "::ffff:10.0.0.0/8", "fe80::1%eth0"}) {
    EXPECT_FALSE(CidrRange::Parse(bad).ok()) << bad;
  }
}

TEST(CidrTest, List) {
  auto list = CidrList::Parse({"127.0.0.0/8", "::1/128", "185.71.76.0/27"});
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->Contains("127.0.0.1"));
  EXPECT_TRUE(list->Contains("::1"));
  EXPECT_TRUE(list->Contains("185.71.76.31"));
  EXPECT_FALSE(list->Contains("185.71.76.32"));
  auto bad = CidrList::Parse({"127.0.0.0/8", "nope"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("nope"), std::string::npos);
  EXPECT_FALSE(CidrList().Contains("127.0.0.1"));
}

}  // namespace
}  // namespace crmhub::net
