// The payment simulators' API as their providers' documents describe it:
// YooKassa's Idempotence-Key and Basic auth, T-Bank's Token on GetState and
// Init, and the notifications each pushes being signed as its provider
// signs them (checked with the simulators' own spec reading, over loopback);
// the frame they share (simkit/payment_provider_sim.h): --tokens in the
// provider's form, answers in the provider's shape.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapters/robokassa/robokassa_sim.h"
#include "adapters/simulator_registry.h"
#include "adapters/tbank/tbank_sim.h"
#include "adapters/yookassa/yookassa_sim.h"
#include "net/hmac.h"
#include "tests/daemon/http_routes_harness.h"

namespace crmhub::adapters {
namespace {

using daemon::testing::Answer;
using daemon::testing::Fetch;
using nlohmann::json;

const std::pair<std::string, std::string> kYooKassaAuth = {
    "Authorization", "Basic " + net::Base64Encode("sim-shop:sim-secret-key")};

TEST(YooKassaSimulatorTest, OnePaymentPerIdempotenceKey) {
  ManualClock clock;
  yookassa::YooKassaSimOptions o;
  o.orders = 3;
  yookassa::YooKassaSimulator sim(o, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  const std::string body = R"({"amount":{"value":"100.00","currency":"RUB"},"capture":true})";
  auto post = [&](const std::string& key, const std::string& b) {
    std::vector<std::pair<std::string, std::string>> h = {kYooKassaAuth,
                                                          {"Content-Type", "application/json"}};
    if (!key.empty()) h.emplace_back("Idempotence-Key", key);
    return Fetch(sim.port(), "POST", "/v3/payments", b, h);
  };
  Answer first = post("key-1", body);
  ASSERT_EQ(first.status, 200) << first.body;
  Answer again = post("key-1", body);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(sim.CreatedPayments(), 1u);
  EXPECT_EQ(post("key-1", R"({"amount":{"value":"1.00","currency":"RUB"}})").status, 400);
  EXPECT_EQ(post("", body).status, 400);
  EXPECT_EQ(post(std::string(65, 'k'), body).status, 400);
  EXPECT_EQ(post("key-2", body).status, 200);
  EXPECT_EQ(sim.CreatedPayments(), 2u);
  const std::string id = json::parse(first.body).value("id", "");
  Answer got = Fetch(sim.port(), "GET", "/v3/payments/" + id, "", {kYooKassaAuth});
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(json::parse(got.body).value("status", ""), "pending");
  EXPECT_EQ(Fetch(sim.port(), "GET", "/v3/payments/nope", "", {kYooKassaAuth}).status, 404);
  EXPECT_EQ(Fetch(sim.port(), "GET", "/v3/payments/" + id, "",
                  {{"Authorization", "Basic " + net::Base64Encode("sim-shop:wrong")}})
                .status,
            401);
  sim.Stop();
}

TEST(YooKassaSimulatorTest, APaymentMovesOnWithTime) {
  ManualClock clock;
  yookassa::YooKassaSimOptions o;
  o.orders = 20;
  o.start = clock.Now();
  yookassa::YooKassaSimulator sim(o, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  const auto finals = sim.OrderStatuses(/*final_only=*/true);
  ASSERT_EQ(finals.size(), 20u);
  const std::string id = finals.begin()->first;
  auto status = [&] {
    return json::parse(Fetch(sim.port(), "GET", "/v3/payments/" + id, "", {kYooKassaAuth}).body)
        .value("status", "");
  };
  EXPECT_EQ(status(), "pending");
  clock.Advance(std::chrono::hours(1));
  EXPECT_EQ(status(), finals.begin()->second);
  sim.Stop();
}

std::string Token(json body, const std::string& password) {
  body["Password"] = password;
  std::string text;
  for (const auto& [k, v] : body.items()) text += v.is_string() ? v.get<std::string>() : v.dump();
  return net::HexEncode(net::Hash(net::HmacAlgorithm::kSha256, text));  // json orders keys
}

TEST(TbankSimulatorTest, GetStateAndInitCheckTheToken) {
  ManualClock clock;
  tbank::TbankSimOptions o;
  o.orders = 5;
  o.start = clock.Now() - std::chrono::hours(1);
  tbank::TbankSimulator sim(o, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  const auto finals = sim.OrderStatuses(true);
  json state = {{"TerminalKey", "SimTerminal"}, {"PaymentId", finals.begin()->first}};
  state["Token"] = Token(state, "sim-password");
  Answer ok = Fetch(sim.port(), "POST", "/v2/GetState", state.dump(),
                    {{"Content-Type", "application/json"}});
  ASSERT_EQ(ok.status, 200);
  EXPECT_TRUE(json::parse(ok.body).value("Success", false)) << ok.body;
  state["Token"] = Token(state, "wrong");
  EXPECT_FALSE(json::parse(Fetch(sim.port(), "POST", "/v2/GetState", state.dump(),
                                 {{"Content-Type", "application/json"}})
                               .body)
                   .value("Success", true));
  json init = {{"TerminalKey", "SimTerminal"}, {"Amount", 19200}, {"OrderId", "o-1"}};
  init["Token"] = Token(init, "sim-password");
  Answer first =
      Fetch(sim.port(), "POST", "/v2/Init", init.dump(), {{"Content-Type", "application/json"}});
  Answer again =
      Fetch(sim.port(), "POST", "/v2/Init", init.dump(), {{"Content-Type", "application/json"}});
  EXPECT_EQ(first.body, again.body);
  EXPECT_NE(json::parse(first.body).value("PaymentURL", ""), "");
  sim.Stop();
}

// --tokens is checked against each provider's "KEY:SECRET" form, and a pair
// given is what the simulator accepts (and wires the adapter with).
TEST(PaymentProviderSimulatorTest, TokensInTheProvidersFormAndItsAnswers) {
  ManualClock clock;
  const std::vector<simkit::SimulatorType> types = AllSimulatorTypes();
  for (const char* name : {"yookassa", "cloudpayments", "tbank", "robokassa"}) {
    const simkit::SimulatorType* type = simkit::FindSimulatorType(types, name);
    ASSERT_NE(type, nullptr) << name;
    simkit::SimOptions bad;
    bad.credentials = {"no-colon"};
    Result<std::unique_ptr<simkit::Simulator>> refused = simkit::CreateSimulator(*type, bad, clock);
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << name;
    EXPECT_NE(refused.status().message().find(name), std::string::npos)
        << refused.status().message();
    simkit::SimOptions good;
    good.orders = 2;
    good.credentials = {"acct:s3cret"};
    Result<std::unique_ptr<simkit::Simulator>> sim = simkit::CreateSimulator(*type, good, clock);
    ASSERT_TRUE(sim.ok()) << name << ": " << sim.status().ToString();
    bool wired = false;
    for (const auto& [key, value] : (*sim)->Wiring().secrets) wired = wired || value == "s3cret";
    EXPECT_TRUE(wired) << name;
  }
  // The provider's shape: T-Bank's JSON error body, Robokassa's plain text,
  // under the provider's Server header.
  tbank::TbankSimOptions t;
  t.orders = 1;
  tbank::TbankSimulator tbank_sim(t, clock);
  ASSERT_TRUE(tbank_sim.Start("127.0.0.1:0").ok());
  Answer missing = Fetch(tbank_sim.port(), "GET", "/v2/Nope", "", {});
  EXPECT_EQ(missing.status, 404);
  EXPECT_FALSE(json::parse(missing.body, nullptr, false).value("Success", true)) << missing.body;
  EXPECT_EQ(missing.Header("server"), "tbank-sim");
  robokassa::RobokassaSimOptions r;
  r.orders = 1;
  robokassa::RobokassaSimulator robokassa_sim(r, clock);
  ASSERT_TRUE(robokassa_sim.Start("127.0.0.1:0").ok());
  Answer page = Fetch(robokassa_sim.port(), "GET", "/pay?MerchantLogin=sim-shop", "", {});
  EXPECT_EQ(page.status, 400);
  EXPECT_EQ(page.Header("server"), "robokassa-sim");
  tbank_sim.Stop();
  robokassa_sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters
