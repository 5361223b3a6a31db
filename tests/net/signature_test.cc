// net/signature.h: signatures as data, checked against the providers'
// vectors in the contracts folder (read at run time; a missing file fails).

#include "net/signature.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

namespace crmhub::net {
namespace {

using nlohmann::json;

json Vector(const std::string& relative) {
  const std::string path = std::string(CRMHUB_CONTRACTS_DIR) + "/" + relative;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "missing contract file " << path;
  return in.good() ? json::parse(in) : json::object();
}

SignatureScheme::Inputs Fields(std::string_view body,
                               const std::map<std::string, std::string>& fields) {
  SignatureScheme::Inputs inputs;
  inputs.body = body;
  inputs.field = [fields](std::string_view name) -> std::optional<std::string> {
    auto it = fields.find(std::string(name));
    return it == fields.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  return inputs;
}

TEST(SignatureSchemeTest, CloudPaymentsContentHmacIsBase64HmacSha256OfTheBody) {
  const json v = Vector("payments/cloudpayments/hmac_test_vector.THIRD_PARTY.json");
  auto scheme = SignatureScheme::Parse("hmac-sha256", "base64", "{body}");
  ASSERT_TRUE(scheme.ok());
  const std::string body = v.value("raw_body", "");
  const std::string secret = v.value("api_secret", "");
  EXPECT_EQ(*scheme->Compute(secret, Fields(body, {})), v.value("Content-HMAC", "?"));
  EXPECT_TRUE(scheme->Verify(secret, Fields(body, {}), v.value("Content-HMAC", "?")));
  EXPECT_FALSE(scheme->Verify(secret + "x", Fields(body, {}), v.value("Content-HMAC", "?")));
}

TEST(SignatureSchemeTest, MangoSignIsSha256OverKeyJsonAndSalt) {
  const json v = Vector("telephony/mango/sign_test_vector.COMPUTED.json");
  auto scheme = SignatureScheme::Parse("sha256", "hex", "{field:vpbx_api_key}{field:json}{secret}");
  ASSERT_TRUE(scheme.ok()) << scheme.status().ToString();
  auto inputs =
      Fields("", {{"vpbx_api_key", v.value("vpbx_api_key", "")}, {"json", v.value("json", "")}});
  EXPECT_EQ(*scheme->Compute(v.value("vpbx_api_salt", ""), inputs), v.value("sign", "?"));
  // Hex is compared in either case.
  std::string upper = v.value("sign", "?");
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(scheme->Verify(v.value("vpbx_api_salt", ""), inputs, upper));
  // A signed field the request lacks: no signature can match.
  EXPECT_FALSE(scheme->Compute("salt", Fields("", {})).ok());
}

TEST(SignatureSchemeTest, ZadarmaSignsTheHexDigestInBase64) {
  const json v = Vector("telephony/zadarma/webhook_signature_vectors.COMPUTED.json");
  ASSERT_TRUE(v.contains("cases"));
  auto scheme = SignatureScheme::Parse("hmac-sha1", "base64-of-hex",
                                       "{field:caller_id}{field:called_did}{field:call_start}");
  ASSERT_TRUE(scheme.ok());
  const json& start = v["cases"][0];
  std::map<std::string, std::string> fields;
  for (const auto& [k, value] : start["post_fields"].items()) fields[k] = value.get<std::string>();
  EXPECT_EQ(*scheme->Compute(v.value("secret", ""), Fields("", fields)),
            start.value("Signature_header", "?"));
}

TEST(SignatureSchemeTest, RobokassaResultUrlIsMd5OverAColonTemplate) {
  const json v = Vector("payments/robokassa/signature_vectors.COMPUTED.json");
  auto scheme = SignatureScheme::Parse("md5", "hex", "{field:OutSum}:{field:InvId}:{secret}");
  ASSERT_TRUE(scheme.ok());
  EXPECT_EQ(*scheme->Compute("password_2", Fields("", {{"OutSum", "100.00"}, {"InvId", "5"}})),
            v["result_url"].value("md5", "?"));
}

TEST(SignatureSchemeTest, TemplatesAndNamesAreCheckedWhenParsed) {
  EXPECT_FALSE(SignatureScheme::Parse("sha384", "hex", "{body}").ok());
  EXPECT_FALSE(SignatureScheme::Parse("hmac-sha256", "base32", "{body}").ok());
  EXPECT_FALSE(SignatureScheme::Parse("hmac-sha256", "hex", "{bodyy}").ok());
  EXPECT_FALSE(SignatureScheme::Parse("hmac-sha256", "hex", "{body").ok());
  EXPECT_FALSE(SignatureScheme::Parse("hmac-sha256", "hex", "x}").ok());
  EXPECT_FALSE(SignatureScheme::Parse("hmac-sha256", "hex", "").ok());
  // A plain digest must include the secret: otherwise anyone can sign.
  auto unkeyed = SignatureScheme::Parse("sha256", "hex", "{body}");
  ASSERT_FALSE(unkeyed.ok());
  EXPECT_NE(unkeyed.status().message().find("{secret}"), std::string::npos);
  auto braces = SignatureScheme::Parse("sha256", "hex", "{{{secret}}}");
  ASSERT_TRUE(braces.ok());
  EXPECT_EQ(*braces->Compute("s", Fields("", {})),
            *SignatureScheme::Parse("sha256", "hex", "{{s}}{secret}")->Compute("", Fields("", {})));
  // A GitHub-style prefix is stripped before comparing.
  auto gh = SignatureScheme::Parse("hmac-sha256", "hex", "{body}");
  const std::string sig = *gh->Compute("k", Fields("b", {}));
  EXPECT_TRUE(gh->Verify("k", Fields("b", {}), "sha256=" + sig, "sha256="));
  EXPECT_FALSE(gh->Verify("k", Fields("b", {}), "sha1=" + sig, "sha256="));
}

}  // namespace
}  // namespace crmhub::net
