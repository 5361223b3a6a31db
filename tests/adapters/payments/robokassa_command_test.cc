// Robokassa create_payment: a payment link signed with Password #1 (the
// contract's vector), which the simulator's payment page accepts as
// Robokassa would check it and refuses once tampered with; the link back in
// the payment entity through the shipped rules, pending until the paid
// invoice's ResultURL; payment_url a key without a default, and without it
// no command at all.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapters/robokassa/robokassa_adapter.h"
#include "adapters/robokassa/robokassa_sim.h"
#include "net/api_client.h"
#include "net/hmac.h"
#include "tests/adapters/payments/payment_test_support.h"
#include "tests/support/client_thread.h"

namespace crmhub::adapters::robokassa {
namespace {

using nlohmann::json;
using namespace payments_testing;

class RobokassaCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RobokassaSimOptions o;
    o.orders = 1;
    sim_ = std::make_unique<RobokassaSimulator>(o, clock_);
    ASSERT_TRUE(sim_->Start("127.0.0.1:0").ok());
  }
  void TearDown() override { sim_->Stop(); }
  // The simulator's shop, its passwords, its page as payment_url (or none).
  std::unique_ptr<RobokassaAdapter> Adapter(bool with_page = true,
                                            const std::string& password1 = "sim-password-1") {
    RobokassaConfig c;
    c.id = "rk";
    c.account = "sim-shop";
    c.secrets = {Secret(password1), Secret("sim-password-2")};
    c.choice = "md5";
    if (with_page) c.link_url = sim_->base_url() + "/pay";
    return std::make_unique<RobokassaAdapter>(c, &metrics_);
  }
  static DeliveryOutcome Deliver(RobokassaAdapter& a, const json& item, int attempt = 1) {
    Command c{.name = "create_payment", .payload = item.dump(), .key = "k", .attempt = attempt};
    return a.Deliver(std::span<const Command>(&c, 1)).at(0);
  }
  // GET `url` as the buyer's browser would: the status.
  int Open(const std::string& url) {
    net::OutboundRequest r;
    r.url = url;
    net::OutboundResult answer = http_.transport()("buyer", std::move(r));
    return answer.ok() ? answer->status : 0;
  }
  static std::string Replace(std::string s, const std::string& from, const std::string& to) {
    const size_t at = s.find(from);
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
  }
  ManualClock clock_;
  MetricsRegistry metrics_;
  crmhub::testing::ClientThread http_;
  std::unique_ptr<RobokassaSimulator> sim_;
};

TEST(RobokassaLink, ContractVector) {
  const json v = Contract("robokassa/signature_vectors.COMPUTED.json");
  ASSERT_TRUE(v.is_object()) << "contract file missing";
  const json link = v.value("payment_link", json::object());
  EXPECT_EQ(LinkSignatureText("demo", "100.00", "5", "password_1"), link.value("string", "-"));
  EXPECT_EQ(RobokassaHash("md5", LinkSignatureText("demo", "100.00", "5", "password_1")),
            link.value("md5", "-"));
}

// The vector's shop makes the vector's link.
TEST(RobokassaLink, TheLinkCarriesTheVectorsSignature) {
  const json v = Contract("robokassa/signature_vectors.COMPUTED.json");
  RobokassaConfig c;
  c.id = "rk";
  c.account = "demo";
  c.secrets = {Secret("password_1"), Secret("password_2")};
  c.choice = "md5";
  c.link_url = "https://pay.example/page";
  RobokassaAdapter a(c, nullptr);
  Command cmd{
      .name = "create_payment",
      .payload = json{{"order_id", 5}, {"amount", "100.00"}, {"description", "Заказ №5"}}.dump(),
      .key = "k"};
  DeliveryOutcome made = a.Deliver(std::span<const Command>(&cmd, 1)).at(0);
  ASSERT_TRUE(made.ok());
  const std::vector<InboundEvent>& links = made.learned;
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].kind, "payment");
  EXPECT_EQ(links[0].idempotency_key, "link:5");
  EXPECT_EQ(links[0].ordering_key, "5");
  EXPECT_EQ(json::parse(links[0].payload).value("PaymentURL", ""),
            "https://pay.example/page?MerchantLogin=demo&OutSum=100.00&InvId=5&Description=" +
                net::UrlEncode("Заказ №5") +
                "&SignatureValue=" + v["payment_link"].value("md5", "-"));
}

TEST_F(RobokassaCommandTest, TheSimulatorsPageAcceptsTheLinkAndRefusesItTampered) {
  auto a = Adapter();
  ASSERT_EQ(a->commands(), std::vector<std::string>{"create_payment"});
  DeliveryOutcome made =
      Deliver(*a, {{"order_id", "42"}, {"amount", "1500.00"}, {"description", "Boots"}});
  ASSERT_TRUE(made.ok());
  const std::vector<InboundEvent>& links = made.learned;
  ASSERT_EQ(links.size(), 1u);
  const std::string url = json::parse(links[0].payload).value("PaymentURL", "");
  ASSERT_EQ(url.rfind(sim_->base_url() + "/pay?", 0), 0u) << url;
  EXPECT_EQ(Open(url), 200);
  EXPECT_EQ(sim_->LinksOpened(), 1u);
  EXPECT_EQ(Open(Replace(url, "OutSum=1500.00", "OutSum=15.00")), 400);
  EXPECT_EQ(Open(Replace(url, "InvId=42", "InvId=43")), 400);
  EXPECT_EQ(sim_->LinksOpened(), 1u);
  // Signed with another Password #1: refused too.
  auto wrong = Adapter(true, "not-the-password");
  DeliveryOutcome wrong_link = Deliver(*wrong, {{"order_id", "42"}, {"amount", "1500.00"}});
  ASSERT_TRUE(wrong_link.ok());
  ASSERT_EQ(wrong_link.learned.size(), 1u);
  EXPECT_EQ(Open(json::parse(wrong_link.learned[0].payload).value("PaymentURL", "")), 400);
  EXPECT_EQ(sim_->LinksOpened(), 1u);
}

// The link is an update of the payment entity: pending with the link, then
// the paid invoice's ResultURL makes it succeeded, and a link redelivered
// after that cannot walk it back.
TEST_F(RobokassaCommandTest, TheLinkComesBackInThePaymentEntity) {
  auto a = Adapter();
  const json item = {{"order_id", 7}, {"amount", "99.90"}};
  DeliveryOutcome made = Deliver(*a, item);
  ASSERT_TRUE(made.ok());
  std::vector<InboundEvent> links = made.learned;
  ASSERT_EQ(links.size(), 1u);
  MappedStore store("robokassa-payments.toml");
  ASSERT_TRUE(store.rules_ok());
  store.Apply("rk", links[0]);
  ASSERT_TRUE(store.errors.empty()) << store.errors.front();
  auto stored = store.store().Find(model::EntityKind::kPayment, "rk", "7");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((**stored).entity.fields.value("status", ""), "pending");
  EXPECT_EQ((**stored).entity.fields.value("amount", 0), 9990);
  EXPECT_EQ((**stored).entity.fields.value("order_external_id", ""), "7");
  const std::string url = (**stored).entity.fields["extra"].value("payment_url", "");
  EXPECT_EQ(url, json::parse(links[0].payload).value("PaymentURL", "-"));
  EXPECT_EQ(Open(url), 200);

  // Robokassa's ResultURL for the paid invoice.
  const std::string signature = net::HexEncode(
      net::Hash(net::HmacAlgorithm::kMd5, ResultSignatureText("99.90", "7", "sim-password-2", {})));
  auto paid =
      a->HandleWebhook(Request("/hooks/rk", "OutSum=99.90&InvId=7&SignatureValue=" + signature,
                               "185.59.216.65", "application/x-www-form-urlencoded"));
  ASSERT_TRUE(paid.ok()) << paid.status().ToString();
  store.Apply("rk", paid->events.at(0));
  EXPECT_EQ(store.Status(model::EntityKind::kPayment, "rk", "7"), "succeeded");
  // The same command again (a redelivery): the same link, stale now.
  made = Deliver(*a, item, 2);
  ASSERT_TRUE(made.ok());
  links = made.learned;
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(json::parse(links[0].payload).value("PaymentURL", "-"), url);
  store.Apply("rk", links[0]);
  EXPECT_EQ(store.Status(model::EntityKind::kPayment, "rk", "7"), "succeeded");
  EXPECT_TRUE(store.errors.empty()) << store.errors.front();
}

TEST_F(RobokassaCommandTest, BadItemsAreDeadLettersAndMakeNoLink) {
  auto a = Adapter();
  for (const json& bad :
       {json::object(), json{{"order_id", "42"}}, json{{"amount", "1.00"}},
        json{{"order_id", "0"}, {"amount", "1.00"}}, json{{"order_id", "A-1"}, {"amount", "1.00"}},
        json{{"order_id", "042"}, {"amount", "1.00"}}, json{{"order_id", "1"}, {"amount", "0"}},
        json{{"order_id", "1"}, {"amount", "0.00"}}, json{{"order_id", "1"}, {"amount", "1.005"}},
        json{{"order_id", "1"}, {"amount", "-1"}}, json{{"order_id", "1"}, {"amount", "1."}},
        json{{"order_id", "1"}, {"amount", "1e3"}}, json{{"order_id", "1"}, {"amount", "1&x=2"}}}) {
    DeliveryOutcome refused = Deliver(*a, bad);
    EXPECT_EQ(refused.kind, DeliveryOutcome::Kind::kFail) << bad.dump();
    EXPECT_TRUE(refused.learned.empty()) << bad.dump();
  }
}

TEST_F(RobokassaCommandTest, WithoutPaymentUrlNoCommands) {
  auto a = Adapter(/*with_page=*/false);
  EXPECT_TRUE(a->commands().empty());
  DeliveryOutcome refused = Deliver(*a, {{"order_id", "1"}, {"amount", "1.00"}});
  EXPECT_EQ(refused.kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(refused.error.find("payment_url"), std::string::npos) << refused.error;
}

TEST(RobokassaFactory, PaymentUrlHasNoDefault) {
  FactoryDir dir;
  const std::string keys = "merchant_login = \"demo\"\npassword1_file = \"" +
                           dir.Secret("p1", "password_1") + "\"\npassword2_file = \"" +
                           dir.Secret("p2", "password_2") + "\"\n";
  auto plain = dir.Build(Type(), "rk", keys);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_TRUE((*plain)->target()->commands().empty());
  auto linked = dir.Build(Type(), "rk", keys + "payment_url = \"https://pay.example/page\"\n");
  ASSERT_TRUE(linked.ok()) << linked.status().ToString();
  EXPECT_EQ((*linked)->target()->commands(), std::vector<std::string>{"create_payment"});
  EXPECT_EQ((*linked)->source(), nullptr);  // its links come back as learned records
  Result<std::unique_ptr<Adapter>> query =
      dir.Build(Type(), "rk", keys + "payment_url = \"https://pay.example/page?x=1\"\n");
  EXPECT_NE(query.status().message().find("payment_url"), std::string::npos)
      << query.status().ToString();
}

}  // namespace
}  // namespace crmhub::adapters::robokassa
