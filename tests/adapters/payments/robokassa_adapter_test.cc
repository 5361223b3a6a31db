// The Robokassa adapter on the contract: the signature vectors (each
// hash_algorithm), what it queues and answers, every refusal (counted by
// rule, logged without a password), type confusion, the factory's keys, and
// the shipped rules on what it queues.

#include "adapters/robokassa/robokassa_adapter.h"

#include <gtest/gtest.h>

#include "net/api_client.h"
#include "net/hmac.h"
#include "tests/adapters/payments/payment_test_support.h"

namespace crmhub::adapters::robokassa {
namespace {

using nlohmann::json;
using namespace payments_testing;

const json kVectors = Contract("robokassa/signature_vectors.COMPUTED.json");
constexpr char kPassword1[] = "password_1";
constexpr char kPassword2[] = "password_2";  // the vectors' Password#2
constexpr char kRobokassa[] = "185.59.216.65";

std::string Form(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += k + "=" + net::UrlEncode(v);
  }
  return out;
}

// A ResultURL form as Robokassa sends it, signed with `algorithm`.
std::string Result(const std::string& out_sum, const std::string& inv_id,
                   std::vector<std::pair<std::string, std::string>> shp = {},
                   const std::string& algorithm = "md5", const std::string& password = kPassword2) {
  std::vector<std::pair<std::string, std::string>> fields = {{"OutSum", out_sum},
                                                             {"InvId", inv_id}};
  const std::string signature =
      RobokassaHash(algorithm, ResultSignatureText(out_sum, inv_id, password, shp)).value();
  fields.insert(fields.end(), shp.begin(), shp.end());
  fields.emplace_back("SignatureValue", signature);
  return Form(fields);
}

class RobokassaAdapterTest : public ::testing::Test {
 protected:
  RobokassaAdapterTest() : adapter_(Config("md5"), &metrics_) {}
  static RobokassaConfig Config(const std::string& algorithm) {
    RobokassaConfig c;
    c.id = "rk";
    c.account = "demo";
    c.secrets = {Secret(kPassword1), Secret(kPassword2)};
    c.choice = algorithm;
    c.allow_ips = *net::CidrList::Parse(PublishedSenders());
    return c;
  }
  static net::HttpRequest Post(const std::string& body, const std::string& from = kRobokassa) {
    return Request("/hooks/rk", body, from, "application/x-www-form-urlencoded");
  }
  MetricsRegistry metrics_;
  RobokassaAdapter adapter_;
};

TEST(RobokassaSignature, ContractVectors) {
  ASSERT_TRUE(kVectors.is_object()) << "contract file missing";
  for (const char* name : {"payment_link", "result_url", "result_url_with_shp"}) {
    const json v = kVectors.value(name, json::object());
    EXPECT_EQ(RobokassaHash("md5", v.value("string", "")), v.value("md5", "")) << name;
  }
  EXPECT_EQ(ResultSignatureText("100.00", "5", kPassword2, {}),
            kVectors["result_url"].value("string", ""));
  const json shp = kVectors["result_url_with_shp"]["post_fields"];
  EXPECT_EQ(ResultSignatureText("100.00", "5", kPassword2,
                                {{"Shp_login", shp.value("Shp_login", "")},
                                 {"Shp_item", shp.value("Shp_item", "")}}),
            kVectors["result_url_with_shp"].value("string", ""));
  // The other algorithms the shop may choose: the digests of OpenSSL.
  EXPECT_EQ(RobokassaHash("sha256", "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(RobokassaHash("sha1", "abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(RobokassaHash("sha384", "abc").value().size(), 96u);
  EXPECT_EQ(RobokassaHash("sha512", "abc").value().substr(0, 16), "ddaf35a193617aba");
  EXPECT_FALSE(RobokassaHash("crc32", "abc").has_value());
}

// The vectors' ResultURL, with the vector's own signature, in upper case
// as Robokassa may send it; answered OK5.
TEST_F(RobokassaAdapterTest, AcceptsTheVectorsResultUrl) {
  std::string md5 = kVectors["result_url_with_shp"].value("md5", "");
  for (char& c : md5) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto r = adapter_.HandleWebhook(
      Post("OutSum=100.00&InvId=5&Shp_login=user&Shp_item=1&SignatureValue=" + md5));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].kind, "payment");
  EXPECT_EQ(r->events[0].idempotency_key, "5");
  EXPECT_EQ(r->accepted.status, 200);
  EXPECT_EQ(r->accepted.body, kVectors["result_url"].value("reply_body", ""));
  EXPECT_EQ(json::parse(r->events[0].payload).value("Shp_item", ""), "1");
}

TEST_F(RobokassaAdapterTest, EachHashAlgorithm) {
  for (const std::string& algorithm : HashAlgorithms()) {
    RobokassaAdapter a(Config(algorithm), &metrics_);
    EXPECT_TRUE(a.HandleWebhook(Post(Result("10.00", "8", {}, algorithm))).ok()) << algorithm;
    const std::string other = algorithm == "md5" ? "sha256" : "md5";
    EXPECT_EQ(a.HandleWebhook(Post(Result("10.00", "8", {}, other))).status().code(),
              StatusCode::kUnauthenticated)
        << algorithm;
  }
}

TEST_F(RobokassaAdapterTest, RefusesWrongSignaturesTamperingAndOtherSenders) {
  LogCapture log;
  EXPECT_EQ(
      adapter_.HandleWebhook(Post(Result("100.00", "5", {}, "md5", kPassword1))).status().code(),
      StatusCode::kUnauthenticated);
  std::string tampered = Result("100.00", "5", {{"Shp_item", "1"}});
  tampered.replace(tampered.find("100.00"), 6, "1.00");
  EXPECT_EQ(adapter_.HandleWebhook(Post(tampered)).status().code(), StatusCode::kUnauthenticated);
  std::string shp = Result("100.00", "5", {{"Shp_item", "1"}});
  shp.replace(shp.find("Shp_item=1"), 10, "Shp_item=2");
  EXPECT_EQ(adapter_.HandleWebhook(Post(shp)).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(adapter_.HandleWebhook(Post("OutSum=100.00&InvId=5")).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(adapter_.HandleWebhook(Post(Result("100.00", "5"), "10.0.0.1")).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Refusals(metrics_, "rk", "signature"), 4);
  EXPECT_EQ(Refusals(metrics_, "rk", "sender"), 1);
  EXPECT_EQ(log.text().find(kPassword2), std::string::npos);
  EXPECT_EQ(log.text().find(kPassword1), std::string::npos);
}

TEST_F(RobokassaAdapterTest, TypeConfusionIsAClear4xx) {
  for (const char* inv : {"0", "-5", "abc", "1e400", "5.0", "05", "99999999999999999999", ""}) {
    auto r = adapter_.HandleWebhook(Post(Result("100.00", inv)));
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << inv;
  }
  EXPECT_EQ(adapter_.HandleWebhook(Post(Result("", "5"))).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(adapter_.HandleWebhook(Post(Result("100.00", "5") + "&InvId=6")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(adapter_.HandleWebhook(Post("OutSum=%zz")).status().code(),
            StatusCode::kInvalidArgument);
  // A JSON body is not a form Robokassa sends: no signature field.
  EXPECT_FALSE(adapter_.HandleWebhook(Post(R"({"OutSum":"1","InvId":5})")).ok());
}

TEST(RobokassaFactory, KeysAndErrors) {
  FactoryDir dir;
  const std::string keys = "merchant_login = \"demo\"\npassword1_file = \"" +
                           dir.Secret("p1", kPassword1) + "\"\npassword2_file = \"" +
                           dir.Secret("p2", kPassword2) + "\"\n";
  auto md5 = dir.Build(Type(), "rk", keys);
  ASSERT_TRUE(md5.ok()) << md5.status().ToString();
  net::HttpRequest r =
      Request("/hooks/rk", Result("10.00", "3"), kRobokassa, "application/x-www-form-urlencoded");
  EXPECT_TRUE((*md5)->webhook()->HandleWebhook(r).ok());
  r.remote_address = "203.0.113.9";
  EXPECT_EQ((*md5)->webhook()->HandleWebhook(r).status().code(), StatusCode::kPermissionDenied);
  auto sha = dir.Build(Type(), "rk", keys + "hash_algorithm = \"sha512\"\n");
  ASSERT_TRUE(sha.ok());
  r.remote_address = kRobokassa;
  r.body = Result("10.00", "3", {}, "sha512");
  EXPECT_TRUE((*sha)->webhook()->HandleWebhook(r).ok());
  EXPECT_NE(dir.Build(Type(), "rk", keys + "hash_algorithm = \"crc32\"\n")
                .status()
                .message()
                .find("hash_algorithm"),
            std::string::npos);
  EXPECT_NE(dir.Build(Type(), "rk", "merchant_login = \"demo\"\n")
                .status()
                .message()
                .find("password1_file"),
            std::string::npos);
}

TEST_F(RobokassaAdapterTest, MapsToASucceededPaymentOfTheInvoice) {
  auto r = adapter_.HandleWebhook(Post(Result("1 234.50", "42", {{"Shp_order", "A-1"}})));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  MappedStore store("robokassa-payments.toml");
  ASSERT_TRUE(store.rules_ok());
  store.Apply("rk", r->events[0]);
  store.Apply("rk", r->events[0]);
  EXPECT_TRUE(store.errors.empty()) << store.errors.front();
  EXPECT_EQ(store.Status(model::EntityKind::kPayment, "rk", "42"), "succeeded");
  auto stored = store.store().Find(model::EntityKind::kPayment, "rk", "42");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((**stored).entity.fields.value("amount", 0), 123450);
  EXPECT_EQ((**stored).entity.fields.value("order_external_id", ""), "42");
}

}  // namespace
}  // namespace crmhub::adapters::robokassa
