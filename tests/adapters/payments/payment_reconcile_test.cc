// `crmhub reconcile --source` for payment providers (daemon/cli/
// source_count.h), against the T-Bank and YooKassa simulators over
// loopback: each payment of the adapter in crm.db is looked up (GetState,
// GET /v3/payments/{id}) and the provider's status, through the shipped
// rules, is set beside the stored one; a stale status and a payment the
// provider does not know are differences, named in the table and the JSON.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "adapters/tbank/tbank_adapter.h"
#include "adapters/tbank/tbank_sim.h"
#include "adapters/yookassa/yookassa_sim.h"
#include "config/config.h"
#include "crm/sqlite_store.h"
#include "crm/store_schema.h"
#include "daemon/adapter_registry.h"
#include "daemon/cli/source_count.h"
#include "daemon/config_schema.h"
#include "mapping/rules/rule_set.h"
#include "tests/adapters/payments/payment_test_support.h"
#include "tests/support/client_thread.h"

namespace crmhub::cli {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const std::filesystem::path kMappings =
    std::filesystem::path(CRMHUB_SOURCE_DIR) / "config/mappings";

class PaymentReconcileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    adapters::tbank::TbankSimOptions t;
    t.orders = 4;
    tbank_ = std::make_unique<adapters::tbank::TbankSimulator>(t, sim_clock_);
    adapters::yookassa::YooKassaSimOptions y;
    y.orders = 2;
    yookassa_ = std::make_unique<adapters::yookassa::YooKassaSimulator>(y, sim_clock_);
    ASSERT_TRUE(tbank_->Start("127.0.0.1:0").ok());
    ASSERT_TRUE(yookassa_->Start("127.0.0.1:0").ok());
    sim_clock_.Advance(std::chrono::hours(24));  // every payment has ended
    crm::SqliteStoreOptions o;
    o.path = dir_.path() / std::string(crm::kCrmDbFileName);
    store_ = crm::SqliteCrmStore::Open(o, clock_).value();
  }
  void TearDown() override {
    tbank_->Stop();
    yookassa_->Stop();
  }
  // One adapter section for `sim`, its secrets in files.
  std::string Section(const std::string& id, const simkit::Simulator& sim,
                      const std::string& mapping, const std::string& base_url) {
    const simkit::AdapterWiring wiring = sim.Wiring();
    std::string out = fmt::format("\n[adapters.{}]\ntype = \"{}\"\nmapping = \"{}\"\n{}", id,
                                  wiring.type, (kMappings / mapping).string(), wiring.keys);
    for (const auto& [key, value] : wiring.secrets) {
      out += fmt::format("{} = \"{}\"\n", key, dir_.Secret(id + "-" + key, value));
      std::filesystem::permissions(
          dir_.path() / (id + "-" + key),
          std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    }
    // The wiring names the API root when the simulator knows it.
    if (wiring.keys.find("base_url") != std::string::npos) return out;
    return out + fmt::format("base_url = \"{}\"\n", base_url);
  }
  // Maps `payload` with `rules` and stores it as adapter `source` received it.
  void Store(const std::string& rules, const std::string& source, const std::string& key,
             const std::string& payload) {
    auto set = mapping::LoadRules(kMappings / rules);
    ASSERT_TRUE(set.ok()) << set.status().ToString();
    auto entities = set->ApplyText(payload, {.source = source, .received_ms = 1});
    ASSERT_TRUE(entities.ok()) << entities.status().ToString();
    crm::SinkEvent ev;
    ev.source = source;
    ev.idempotency_key = key;
    ev.message_id = ++messages_;
    ev.entities = std::move(*entities);
    for (const auto& outcome : store_->Apply({ev})) ASSERT_TRUE(outcome.ok()) << outcome.error;
  }
  static std::string TbankNew(const std::string& payment) {
    json body = {{"TerminalKey", "SimTerminal"},
                 {"OrderId", "o-" + payment},
                 {"Success", true},
                 {"Status", "NEW"},
                 {"PaymentId", payment},
                 {"Amount", 1000}};
    body["Token"] = adapters::tbank::TbankToken(body, "sim-password");
    return body.dump();
  }

  ManualClock sim_clock_;
  SystemClock clock_;
  adapters::payments_testing::FactoryDir dir_;
  std::unique_ptr<adapters::tbank::TbankSimulator> tbank_;
  std::unique_ptr<adapters::yookassa::YooKassaSimulator> yookassa_;
  std::unique_ptr<crm::SqliteCrmStore> store_;
  int64_t messages_ = 0;
};

TEST_F(PaymentReconcileTest, EachProviderSaysBesideWhatTheCrmHolds) {
  const std::map<std::string, std::string> tbank = tbank_->OrderStatuses(true);
  const std::map<std::string, std::string> yookassa = yookassa_->OrderStatuses(true);
  ASSERT_EQ(tbank.size(), 4u);
  ASSERT_EQ(yookassa.size(), 2u);
  // T-Bank: the CRM holds the first payment at its final status (the
  // notification GetState's answer stands for), the others still NEW, and
  // one payment T-Bank never made.
  auto it = tbank.begin();
  const std::string agreed = it->first;
  {
    adapters::tbank::TbankConfig c;
    c.id = "tb";
    c.account = "SimTerminal";
    c.secrets = {Secret("sim-password")};
    c.base_url = tbank_->base_url() + "/v2";
    crmhub::testing::ClientThread http;
    adapters::tbank::TbankAdapter adapter(c, nullptr, http.transport(), clock_);
    auto record = adapter.LookUpPayment(agreed);
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    Store("tbank-payments.toml", "tb", record->idempotency_key, record->payload);
  }
  for (++it; it != tbank.end(); ++it)
    Store("tbank-payments.toml", "tb", it->first, TbankNew(it->first));
  Store("tbank-payments.toml", "tb", "999", TbankNew("999"));
  // YooKassa: both at the provider's final status.
  for (const auto& [payment, status] : yookassa) {
    const json note = {{"type", "notification"},
                       {"event", "payment." + status},
                       {"object",
                        {{"id", payment},
                         {"status", status},
                         {"amount", {{"value", "10.00"}, {"currency", "RUB"}}}}}};
    Store("yookassa-payments.toml", "yk", payment, note.dump());
  }

  const std::string toml =
      Section("tb", *tbank_, "tbank-payments.toml", tbank_->base_url() + "/v2") +
      Section("yk", *yookassa_, "yookassa-payments.toml", yookassa_->base_url() + "/v3");
  std::ofstream(dir_.path() / "c.toml") << toml;
  auto config =
      config::LoadConfig(dir_.path() / "c.toml", daemon::BuildSchema(daemon::AllAdapterTypes()));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto rows = CountSources(*config, *store_, clock_, {});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  const SourceCount& tb = rows->at(0);
  const SourceCount& yk = rows->at(1);
  EXPECT_TRUE(tb.provider_asked);
  EXPECT_EQ(tb.provider_payments, 5);
  EXPECT_EQ(tb.provider_agree, 1);
  EXPECT_EQ(tb.provider_unknown, 1);
  EXPECT_EQ(tb.provider_differ_count, 4);  // three stale, one unknown
  EXPECT_EQ(tb.provider_failed, 0);
  const std::string stale = std::next(tbank.begin())->first;
  EXPECT_THAT(fmt::format("{}", fmt::join(tb.provider_differ, "|")),
              HasSubstr(fmt::format("payment/{}: provider {}, crm pending", stale,
                                    std::next(tbank.begin())->second)));
  EXPECT_TRUE(yk.provider_asked);
  EXPECT_EQ(yk.provider_payments, 2);
  EXPECT_EQ(yk.provider_agree, 2) << fmt::format("{}", fmt::join(yk.provider_differ, "|"));
  EXPECT_EQ(yk.provider_differ_count, 0);

  const std::string table = SourceCountTable(*rows);
  EXPECT_THAT(table, HasSubstr("PROVIDER SAYS / CRM HOLDS"));
  EXPECT_THAT(table, HasSubstr("payment/999: provider does not know it, crm pending"));
  const json j = SourceCountJson(*rows);
  EXPECT_EQ(j.at(0).at("provider").at("differ"), 4);
  EXPECT_EQ(j.at(1).at("provider").at("agree"), 2);
}

}  // namespace
}  // namespace crmhub::cli
