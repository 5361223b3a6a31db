// Golden tests: real sample payloads from contracts/ (vendored) mapped with
// the shipped rules (config/mappings/) must give exactly the canonical JSON
// checked in under tests/mapping/golden/*.expected.json. The expected files
// were checked value by value against the samples (see the notes in each
// case below); a diff here is a behaviour change to review, not to re-bless.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <ostream>
#include <sstream>

#include "adapters/bank_1c/statement_parser.h"
#include "mapping/model/model.h"
#include "mapping/rules/rule_set.h"

namespace crmhub::mapping {
namespace {

using nlohmann::json;

constexpr int64_t kReceivedMs = 1700000000000;  // 2023-11-14T22:13:20Z

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string Contract(const std::string& rel) {
  return std::string(CRMHUB_CONTRACTS_DIR) + "/" + rel;
}
std::string Source(const std::string& rel) { return std::string(CRMHUB_SOURCE_DIR) + "/" + rel; }

struct GoldenCase {
  const char* name;     // tests/mapping/golden/<name>.expected.json
  const char* rules;    // config/mappings/<rules>.toml
  const char* source;   // adapter id
  std::string input;    // absolute path
  bool bank_statement;  // input is a 1CClientBankExchange file
};

json MapCase(const GoldenCase& c) {
  auto rules = LoadRules(Source(std::string("config/mappings/") + c.rules + ".toml"));
  EXPECT_TRUE(rules.ok()) << rules.status().ToString();
  if (!rules.ok()) return nullptr;
  ApplyContext ctx{c.source, nullptr, kReceivedMs};
  std::string bytes = ReadFile(c.input);
  std::vector<json> records;
  if (c.bank_statement) {
    auto st = adapters::bank_1c::ParseStatement(bytes);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    if (!st.ok()) return nullptr;
    records = st->documents;
  } else {
    records.push_back(json::parse(bytes));
  }
  json out = json::array();
  for (const auto& r : records) {
    auto mapped = rules->Apply(r, ctx);
    EXPECT_TRUE(mapped.ok()) << c.name << ": " << mapped.status().ToString();
    if (!mapped.ok()) return nullptr;
    for (const auto& e : *mapped) out.push_back(model::ToJson(e));
  }
  return out;
}

void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.name; }

class GoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenTest, MatchesExpected) {
  const GoldenCase& c = GetParam();
  json actual = MapCase(c);
  // To review a change: CRMHUB_GOLDEN_OUT=/tmp/dir writes what the code
  // produces there (never over the expected files) for a diff by hand.
  if (const char* dir = std::getenv("CRMHUB_GOLDEN_OUT")) {
    std::ofstream(std::string(dir) + "/" + c.name + ".expected.json") << actual.dump(2) << "\n";
  }
  std::string expected_path =
      Source(std::string("tests/mapping/golden/") + c.name + ".expected.json");
  json expected = json::parse(ReadFile(expected_path), nullptr, false);
  ASSERT_FALSE(expected.is_discarded()) << expected_path;
  EXPECT_EQ(actual, expected) << "actual:\n" << actual.dump(2);
}

INSTANTIATE_TEST_SUITE_P(
    Contracts, GoldenTest,
    ::testing::Values(
        GoldenCase{"site_lead", "site-lead", "site",
                   Source("tests/mapping/golden/site_form.input.json"), false},
        GoldenCase{
            "yookassa_waiting_for_capture", "yookassa-payments", "yookassa",
            Contract(
                "payments/yookassa/notification_payment_waiting_for_capture.sdk_test_fixture.json"),
            false},
        GoldenCase{
            "yookassa_refund_succeeded", "yookassa-payments", "yookassa",
            Contract("payments/yookassa/notification_refund_succeeded.sdk_test_fixture.json"),
            false},
        GoldenCase{"mango_incoming_answered", "mango-calls", "mango",
                   Contract("telephony/mango/events_summary_ex1_incoming_answered_doc_3.1.6.json"),
                   false},
        GoldenCase{
            "mango_incoming_ended_in_ivr", "mango-calls", "mango",
            Contract("telephony/mango/events_summary_ex2_incoming_ended_in_ivr_doc_3.1.6.json"),
            false},
        GoldenCase{"mango_outgoing_answered", "mango-calls", "mango",
                   Contract("telephony/mango/events_summary_ex3_outgoing_answered_doc_3.1.6.json"),
                   false},
        GoldenCase{"mango_outgoing_missed", "mango-calls", "mango",
                   Contract("telephony/mango/events_summary_ex4_outgoing_missed_doc_3.1.6.json"),
                   false},
        GoldenCase{"onec_nomenclature_element", "onec-odata-products", "onec",
                   Contract("onec/odata/captured_Catalog_Номенклатура_element.json"), false},
        GoldenCase{"bank_kilylabs_one_day", "bank-1c-statement", "bank",
                   Contract("banks/1c_client_bank_exchange/kilylabs_one_day_cp1251_crlf.txt"),
                   true},
        GoldenCase{"bank_xini1_all_fields", "bank-1c-statement", "bank",
                   Contract("banks/1c_client_bank_exchange/xini1_sample1_all_fields_v103_utf8.txt"),
                   true},
        GoldenCase{"bank_xini1_payment_orders", "bank-1c-statement", "bank",
                   Contract("banks/1c_client_bank_exchange/xini1_sample2_v101_utf8.txt"), true}),
    [](const ::testing::TestParamInfo<GoldenCase>& p) { return std::string(p.param.name); });

// The same statement as CP1251 bytes and as UTF-8 maps identically.
TEST(GoldenBankTest, Cp1251AndUtf8FilesMapIdentically) {
  GoldenCase cp{"", "bank-1c-statement", "bank",
                Contract("banks/1c_client_bank_exchange/kilylabs_one_day_cp1251_crlf.txt"), true};
  GoldenCase utf{"", "bank-1c-statement", "bank",
                 Contract("banks/1c_client_bank_exchange/kilylabs_one_day_utf8_crlf.txt"), true};
  json a = MapCase(cp);
  ASSERT_TRUE(a.is_array());
  EXPECT_EQ(a.size(), 13u);
  EXPECT_EQ(a, MapCase(utf));
}

}  // namespace
}  // namespace crmhub::mapping
