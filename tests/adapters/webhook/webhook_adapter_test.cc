// The generic webhook adapter: signature, tokens, IP allow-list, key
// extraction, body formats and sub-paths, and its factory on a real config
// file (CloudPayments' vector by configuration alone).

#include "adapters/webhook/webhook_adapter.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "adapters/kit/push_auth.h"
#include "config/config.h"

namespace crmhub::adapters::webhook {
namespace {

net::HttpRequest Post(std::string body, std::vector<std::pair<std::string, std::string>> headers,
                      std::string from = "127.0.0.1") {
  net::HttpRequest r;
  r.method = "POST";
  r.target = r.path = "/hooks/site";
  r.body = std::move(body);
  r.remote_address = std::move(from);
  for (auto& [k, v] : headers) r.headers.Add(k, v);
  return r;
}

using kit::PushAuth;

WebhookConfig Base() {
  WebhookConfig c;
  c.id = "site";
  c.key = kit::CompositeKey::Parse({"/id"}).value();
  return c;
}

void Sign(WebhookConfig& c, std::string secret) {
  c.secret = Secret(std::move(secret));
  c.signature = net::SignatureScheme::Parse("hmac-sha256", "hex", "{body}").value();
}

TEST(HmacSha256Hex, Rfc4231TestCase2) {
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// Unsigned push notifications (Ozon, Yandex Market): the sender's address,
// then the URL's token; either check alone when only it is configured.
TEST(PushAuth, AddressThenToken) {
  net::HttpRequest r;
  r.remote_address = "10.1.2.3";
  PushAuth open;
  EXPECT_TRUE(open.Check(r).ok());

  PushAuth auth;
  auth.allow_ips = *net::CidrList::Parse({"10.1.0.0/16"});
  auth.token = Secret("s3cret");
  EXPECT_EQ(auth.Check(r).code(), StatusCode::kUnauthenticated);  // no token
  r.query = "token=wrong";
  EXPECT_EQ(auth.Check(r).code(), StatusCode::kUnauthenticated);
  r.query = "a=1&token=s3cret";
  EXPECT_TRUE(auth.Check(r).ok());
  r.remote_address = "::ffff:10.1.9.9";  // a dual-stack listener's view of IPv4
  EXPECT_TRUE(auth.Check(r).ok());
  r.remote_address = "10.2.0.1";
  EXPECT_EQ(auth.Check(r).code(), StatusCode::kPermissionDenied);

  PushAuth token_only;
  token_only.token = Secret("s3cret");
  EXPECT_TRUE(token_only.Check(r).ok());  // any address, the right token
}

TEST(ValueSource, PointerFieldHeaderOrPath) {
  for (const char* ok :
       {"/id", "/order/number", "field:TransactionId", "header:Idempotency-Key", "path:"}) {
    EXPECT_TRUE(kit::ValueSource::Parse(ok).ok()) << ok;
  }
  for (const char* bad : {"id", "", "/a/~2", "header:", "field:"}) {
    EXPECT_FALSE(kit::ValueSource::Parse(bad).ok()) << bad;
  }
  EXPECT_FALSE(kit::CompositeKey::Parse({}).ok());
}

TEST(WebhookBody, FormsDecodeAndBecomeJsonObjectsOfStrings) {
  auto form = kit::WebhookBody::Parse("a=1&b=x+y%21&a=2&empty=&flag", kit::BodyFormat::kForm);
  ASSERT_TRUE(form.ok()) << form.status().ToString();
  EXPECT_EQ(form->Field("a"), "1");  // a repeated field keeps its first value
  EXPECT_EQ(form->Field("b"), "x y!");
  EXPECT_EQ(form->Field("empty"), std::nullopt);
  EXPECT_EQ(form->Field("flag"), std::nullopt);
  EXPECT_EQ(nlohmann::json::parse(form->Payload("ignored")),
            nlohmann::json::parse(R"({"a":"1","b":"x y!","empty":"","flag":""})"));
  // Regression (found by fuzz_webhooks): a field that is not UTF-8 made
  // Payload() throw from nlohmann's dump(); it is refused with its name.
  auto latin1 = kit::WebhookBody::Parse("Name=Jos%E9&Status=Completed", kit::BodyFormat::kForm);
  ASSERT_FALSE(latin1.ok());
  EXPECT_EQ(latin1.status().message(), "form field \"Name\" is not UTF-8 text");
  auto raw = kit::WebhookBody::Parse("Status=C\x9e\x9eompleted", kit::BodyFormat::kForm);
  EXPECT_FALSE(raw.ok());
  auto bad_name = kit::WebhookBody::Parse("N%FFme=1", kit::BodyFormat::kForm);
  ASSERT_FALSE(bad_name.ok());
  EXPECT_EQ(bad_name.status().message(), "form field \"(not UTF-8)\" is not UTF-8 text");
  auto cyrillic = kit::WebhookBody::Parse("Name=%D0%98%D0%B2%D0%B0%D0%BD", kit::BodyFormat::kForm);
  ASSERT_TRUE(cyrillic.ok());
  EXPECT_EQ(nlohmann::json::parse(cyrillic->Payload(""))["Name"], "Иван");
  EXPECT_FALSE(kit::WebhookBody::Parse("a=%4", kit::BodyFormat::kForm).ok());
  EXPECT_FALSE(kit::WebhookBody::Parse("a=%zz", kit::BodyFormat::kForm).ok());
  EXPECT_EQ(
      kit::WebhookBody::Parse(std::string(100, '[') + std::string(100, ']'), kit::BodyFormat::kJson)
          .status()
          .message(),
      "JSON nested deeper than 64 levels");
}

TEST(WebhookAdapter, SignatureChecks) {
  WebhookConfig c = Base();
  Sign(c, "k");
  WebhookAdapter a(std::move(c));
  const std::string body = R"({"id":"1"})";
  auto ok = a.HandleWebhook(Post(body, {{"X-Signature", HmacSha256Hex("k", body)}}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->events.size(), 1u);
  EXPECT_EQ(ok->events[0].idempotency_key, "1");
  EXPECT_EQ(ok->events[0].payload, body);
  EXPECT_EQ(ok->accepted.status, 200);
  EXPECT_EQ(
      a.HandleWebhook(Post(body, {{"X-Signature", HmacSha256Hex("K", body)}})).status().code(),
      StatusCode::kUnauthenticated);
  EXPECT_EQ(a.HandleWebhook(Post(body, {{"X-Signature", "sha256="}})).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(a.HandleWebhook(Post(body, {})).status().code(), StatusCode::kUnauthenticated);
}

TEST(WebhookAdapter, BearerAndBasicTokens) {
  WebhookConfig c = Base();
  c.bearer_token = Secret("tok-1");
  c.basic_auth = Secret("portal:pa:ss");
  WebhookAdapter a(std::move(c));
  const std::string body = R"({"id":"1"})";
  EXPECT_TRUE(a.HandleWebhook(Post(body, {{"Authorization", "Bearer tok-1"}})).ok());
  // "portal:pa:ss" in base64
  EXPECT_TRUE(a.HandleWebhook(Post(body, {{"Authorization", "Basic cG9ydGFsOnBhOnNz"}})).ok());
  // "portal:pa:sx"
  EXPECT_EQ(
      a.HandleWebhook(Post(body, {{"Authorization", "Basic cG9ydGFsOnBhOnN4"}})).status().code(),
      StatusCode::kUnauthenticated);
  EXPECT_EQ(a.HandleWebhook(Post(body, {{"Authorization", "Bearer tok-2"}})).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(a.HandleWebhook(Post(body, {{"Authorization", "Basic !!!!"}})).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(a.HandleWebhook(Post(body, {})).status().code(), StatusCode::kUnauthenticated);
}

TEST(WebhookAdapter, AllowListIsCheckedFirst) {
  WebhookConfig c = Base();
  c.allow_ips = net::CidrList::Parse({"10.0.0.0/8"}).value();
  Sign(c, "k");
  WebhookAdapter a(std::move(c));
  const std::string body = R"({"id":"1"})";
  const auto sig = HmacSha256Hex("k", body);
  EXPECT_TRUE(a.HandleWebhook(Post(body, {{"X-Signature", sig}}, "10.9.8.7")).ok());
  EXPECT_EQ(a.HandleWebhook(Post(body, {{"X-Signature", sig}}, "11.0.0.1")).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(a.HandleWebhook(Post(body, {}, "11.0.0.1")).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(a.HandleWebhook(Post(body, {{"X-Signature", sig}}, "::ffff:10.1.2.3")).ok());
}

TEST(WebhookAdapter, KeyExtraction) {
  WebhookConfig c = Base();
  c.allow_ips = net::CidrList::Parse({"127.0.0.0/8"}).value();
  c.key = kit::CompositeKey::Parse({"/order/number"}).value();
  WebhookAdapter a(std::move(c));
  auto ok = a.HandleWebhook(Post(R"({"order":{"number":"A-7"}})", {}));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->events[0].idempotency_key, "A-7");
  EXPECT_EQ(ok->events[0].kind, "webhook");
  // A number and its text are one key.
  EXPECT_EQ(a.HandleWebhook(Post(R"({"order":{"number":123}})", {}))->events[0].idempotency_key,
            a.HandleWebhook(Post(R"({"order":{"number":"123"}})", {}))->events[0].idempotency_key);
  for (const char* body :
       {R"({"order":{}})", R"({"order":[1]})", R"({"order":{"number":{}}})",
        R"({"order":{"number":""}})", R"({"order":{"number":null}})", R"("text")", "{"}) {
    auto r = a.HandleWebhook(Post(body, {}));
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << body;
  }
}

TEST(WebhookAdapter, KeyFromAHeaderStillRefusesAMalformedBody) {
  WebhookConfig c = Base();
  c.allow_ips = net::CidrList::Parse({"127.0.0.0/8"}).value();
  c.key = kit::CompositeKey::Parse({"header:Idempotency-Key"}).value();
  WebhookAdapter a(std::move(c));
  auto ok = a.HandleWebhook(Post(R"({"form":"x"})", {{"Idempotency-Key", " k-1 "}}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->events[0].idempotency_key, "k-1");
  for (const char* body : {"{", R"({"form":)", "[1,]", ""}) {
    auto r = a.HandleWebhook(Post(body, {{"Idempotency-Key", "k-2"}}));
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << body;
  }
  EXPECT_EQ(a.HandleWebhook(Post(R"({"form":"x"})", {})).status().code(),
            StatusCode::kInvalidArgument);
}

// Several parts joined with ':', the kind read from the body, sub-paths
// claimed by configuration.
TEST(WebhookAdapter, CompositeKeysKindsAndSubPaths) {
  WebhookConfig c = Base();
  c.id = "yk";
  c.allow_ips = net::CidrList::Parse({"127.0.0.0/8"}).value();
  c.key = kit::CompositeKey::Parse({"/object/id", "/event", "path:"}).value();
  c.kind_source = kit::ValueSource::Parse("/type").value();
  c.paths = {"", "refunds"};
  WebhookAdapter a(std::move(c));
  EXPECT_TRUE(a.ServesPath(""));
  EXPECT_TRUE(a.ServesPath("refunds"));
  EXPECT_FALSE(a.ServesPath("other"));
  const std::string body =
      R"({"type":"notification","event":"payment.succeeded","object":{"id":"2c1"}})";
  net::HttpRequest r = Post(body, {});
  r.path = "/hooks/yk/refunds";
  auto ok = a.HandleWebhook(r);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->events[0].idempotency_key, "2c1:payment.succeeded:refunds");
  EXPECT_EQ(ok->events[0].kind, "notification");
  // The second status of one payment is a new event, not a duplicate.
  std::string later = body;
  later.replace(later.find("succeeded"), 9, "canceled");
  r.body = later;
  EXPECT_EQ(a.HandleWebhook(r)->events[0].idempotency_key, "2c1:payment.canceled:refunds");
  r.path = "/hooks/yk";  // the path part is empty there: the key is incomplete
  auto missing = a.HandleWebhook(r);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "idempotency key missing: no value at path:");
}

class WebhookFactory : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "crmhub-wh-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ / "secrets");
    std::ofstream(dir_ / "secrets/site-hmac") << "hmac-key\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Result<std::unique_ptr<Adapter>> Build(const std::string& toml) {
    std::ofstream(dir_ / "crmhub.toml") << toml;
    config::Schema schema;
    schema.adapter_types.push_back(Type().schema);
    auto cfg = config::LoadConfig(dir_ / "crmhub.toml", schema);
    if (!cfg.ok()) return cfg.status();
    auto sections = cfg->Adapters();
    if (sections.size() != 1) return Status::Internal("expected one adapter section");
    return Type().factory(sections[0], AdapterContext{});
  }
  std::filesystem::path dir_;
};

TEST_F(WebhookFactory, BuildsFromTheDocumentedKeys) {
  auto a = Build(R"([adapters.site]
type = "webhook"
secret_file = "secrets/site-hmac"      # HMAC-SHA256 key
signature_header = "X-Signature"
idempotency_key = "/id"
allow_ips = ["127.0.0.0/8"]
max_body = "64KiB"
)");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ((*a)->id(), "site");
  EXPECT_EQ((*a)->type(), "webhook");
  ASSERT_NE((*a)->webhook(), nullptr);
  EXPECT_EQ((*a)->webhook()->max_body_bytes(), 64u * 1024);
  const std::string body = R"({"id":"x"})";
  // The loader strips the file's trailing newline: the key is "hmac-key".
  auto r = (*a)->webhook()->HandleWebhook(
      Post(body, {{"X-Signature", HmacSha256Hex("hmac-key", body)}}));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

TEST_F(WebhookFactory, ConfigErrorsPointAtTheKey) {
  auto bad_cidr = Build(R"([adapters.site]
type = "webhook"
secret_file = "secrets/site-hmac"
idempotency_key = "/id"
allow_ips = ["127.0.0.0/8", "300.0.0.0/8"]
)");
  ASSERT_FALSE(bad_cidr.ok());
  EXPECT_NE(bad_cidr.status().message().find("crmhub.toml:5:"), std::string::npos)
      << bad_cidr.status().message();
  EXPECT_NE(bad_cidr.status().message().find("allow_ips"), std::string::npos);

  auto bad_pointer = Build(R"([adapters.site]
type = "webhook"
secret_file = "secrets/site-hmac"
idempotency_key = "id"
)");
  ASSERT_FALSE(bad_pointer.ok());
  EXPECT_NE(bad_pointer.status().message().find(":4:"), std::string::npos)
      << bad_pointer.status().message();
  EXPECT_NE(bad_pointer.status().message().find("JSON pointer"), std::string::npos);

  auto open = Build(R"([adapters.site]
type = "webhook"
idempotency_key = "/id"
)");
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.status().message().find("no authentication"), std::string::npos);

  auto unknown_key = Build(R"([adapters.site]
type = "webhook"
secret_file = "secrets/site-hmac"
idempotency_key = "/id"
signature = "X-Sig"
)");
  EXPECT_FALSE(unknown_key.ok());
}

// Acceptance: CloudPayments' notification (a form body, signed with a
// base64 HMAC-SHA256 in Content-HMAC) is served by configuration alone, with
// a composite key, answered {"code":0}. The vector is the contracts folder's.
TEST_F(WebhookFactory, CloudPaymentsVectorByConfigurationAlone) {
  const std::string path = std::string(CRMHUB_CONTRACTS_DIR) +
                           "/payments/cloudpayments/hmac_test_vector.THIRD_PARTY.json";
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "missing contract file " << path;
  const nlohmann::json vector = nlohmann::json::parse(in);
  std::ofstream(dir_ / "secrets/cp-api-secret") << vector["api_secret"].get<std::string>() << "\n";
  auto a = Build(R"([adapters.cp]
type = "webhook"
body_format = "form"
secret_file = "secrets/cp-api-secret"
signature_header = "Content-HMAC"
signature_algorithm = "hmac-sha256"
signature_encoding = "base64"
idempotency_key = ["field:SubscriptionId", "field:OperationType", "field:Status"]
kind = "field:OperationType"
answer_body = '{"code":0}'
)");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  const std::string body = vector["raw_body"].get<std::string>();
  const std::string hmac = vector["Content-HMAC"].get<std::string>();
  auto accepted = (*a)->webhook()->HandleWebhook(
      Post(body, {{"Content-HMAC", hmac}, {"Content-Type", "application/x-www-form-urlencoded"}}));
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  ASSERT_EQ(accepted->events.size(), 1u);
  const InboundEvent& e = accepted->events[0];
  EXPECT_EQ(e.idempotency_key, "111111:Payment:Authorized");
  EXPECT_EQ(e.kind, "Payment");
  const nlohmann::json payload = nlohmann::json::parse(e.payload);
  EXPECT_EQ(payload["Email"], "user@mail.com");  // form-decoded
  EXPECT_EQ(nlohmann::json::parse(payload["Data"].get<std::string>())["tariff"], "1");
  EXPECT_EQ(nlohmann::json::parse(accepted->accepted.body), vector["expected_reply"]);
  // A tampered body, a wrong signature, none at all: 401, nothing queued.
  std::string tampered = body;
  tampered.replace(tampered.find("Authorized"), 10, "Completed!");
  for (const auto& [b, h] : std::vector<std::pair<std::string, std::string>>{
           {tampered, hmac}, {body, "AAAA" + hmac.substr(4)}, {body, ""}}) {
    auto r = (*a)->webhook()->HandleWebhook(Post(b, {{"Content-HMAC", h}}));
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << h;
  }
}

}  // namespace
}  // namespace crmhub::adapters::webhook
