// The generic webhook adapter: signature, tokens, IP allow-list, key
// extraction, and its factory on a real config file.

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "adapters/webhook/push_auth.h"
#include "adapters/webhook/webhook_adapter.h"
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

WebhookConfig Base() {
  WebhookConfig c;
  c.id = "site";
  c.key = KeySource::Parse("/id").value();
  return c;
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

TEST(KeySource, PointerOrHeader) {
  EXPECT_TRUE(KeySource::Parse("/id").ok());
  EXPECT_TRUE(KeySource::Parse("/order/number").ok());
  auto h = KeySource::Parse("header:Idempotency-Key");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->header, "Idempotency-Key");
  EXPECT_FALSE(KeySource::Parse("id").ok());
  EXPECT_FALSE(KeySource::Parse("").ok());
  EXPECT_FALSE(KeySource::Parse("/a/~2").ok());  // bad escape
  EXPECT_FALSE(KeySource::Parse("header:").ok());
}

TEST(WebhookAdapter, SignatureChecks) {
  WebhookConfig c = Base();
  c.hmac_key = Secret("k");
  WebhookAdapter a(std::move(c));
  const std::string body = R"({"id":"1"})";
  auto ok = a.HandleWebhook(Post(body, {{"X-Signature", HmacSha256Hex("k", body)}}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->events.size(), 1u);
  EXPECT_EQ(ok->events[0].idempotency_key, "1");
  EXPECT_EQ(ok->events[0].payload, body);
  EXPECT_EQ(ok->accepted.status, 200);
  EXPECT_EQ(a.HandleWebhook(Post(body, {{"X-Signature", HmacSha256Hex("K", body)}}))
                .status().code(),
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
  EXPECT_EQ(a.HandleWebhook(Post(body, {{"Authorization", "Basic cG9ydGFsOnBhOnN4"}}))
                .status().code(),
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
  c.hmac_key = Secret("k");
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
  c.key = KeySource::Parse("/order/number").value();
  WebhookAdapter a(std::move(c));
  auto ok = a.HandleWebhook(Post(R"({"order":{"number":"A-7"}})", {}));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->events[0].idempotency_key, "A-7");
  for (const char* body : {R"({"order":{}})", R"({"order":[1]})", R"({"order":{"number":{}}})",
                           R"("text")", "{"}) {
    auto r = a.HandleWebhook(Post(body, {}));
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << body;
  }
}

TEST(WebhookAdapter, KeyFromAHeaderStillRefusesAMalformedBody) {
  WebhookConfig c = Base();
  c.allow_ips = net::CidrList::Parse({"127.0.0.0/8"}).value();
  c.key = KeySource::Parse("header:Idempotency-Key").value();
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

}  // namespace
}  // namespace crmhub::adapters::webhook
