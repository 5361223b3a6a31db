// Issue 22, acceptance 4: `crmhub top` shows every adapter of a running
// demo. The demo (`crmhub demo`, config/demo.toml: simulators, the daemon,
// webhooks, a stock push) runs as a child; top reads the same config, so it
// finds the admin listener and token as an operator would.

#include <gtest/gtest.h>

#include <csignal>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "tests/daemon/test_support.h"

namespace crmhub {
namespace {

using std::chrono::seconds;

TEST(TopDemoTest, ShowsEveryAdapterOfARunningDemo) {
  testutil::TempDir dir;
  const std::string config = std::string(CRMHUB_SOURCE_DIR) + "/config/demo.toml";
  testutil::ChildProcess demo(
      {testutil::CrmhubBinary(), "demo", "--config", config, "--duration", "20s", "--data-dir",
       (dir.path() / "data").string(), "--orders", "40", "--webhooks", "20"},
      {}, dir.path() / "demo.log");
  // The demo's daemon listens where config/demo.toml says.
  bool ready = false;
  for (int i = 0; i < 600 && !ready; ++i) {
    ready = testutil::HttpRequest(18080, "GET", "/readyz").status == 200;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(ready) << demo.Output();
  auto top = testutil::RunAndCapture(
      {testutil::CrmhubBinary(), "top", "--config", config, "--count", "2", "--interval", "500ms"});
  EXPECT_EQ(top.exit_code, 0) << top.output;
  std::vector<std::string> lines;
  std::stringstream in(top.output);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), 2u) << top.output;
  for (const std::string& line : lines) {
    for (const char* adapter :
         {"site(webhook)", "wb-demo(wildberries)", "ozon-demo(ozon)", "ym-demo(yandex-market)"}) {
      EXPECT_NE(line.find(adapter), std::string::npos) << adapter << " in: " << line;
    }
  }
  demo.Signal(SIGINT);  // Ctrl-C ends the demo early, cleanly
  EXPECT_TRUE(demo.Wait(seconds(60)).has_value()) << demo.Output();
}

// Issue 20: the demo runs 1C's CommerceML exchange (crmhub sim onec against
// /hooks/onec-exchange-demo), pulls Tochka's statements (crmhub sim tochka),
// drops a 1CClientBankExchange statement into the bank-1c inbox and posts the
// invoices those payments pay; its reconciliation table has a row for each,
// with equal counts on both sides: goods, prices, stock and orders from 1C,
// bank transactions, invoices (deals) and the payments matched to them.
TEST(TopDemoTest, ReconcilesOneCExchangeBanksAndMatching) {
  testutil::TempDir dir;
  const std::string config = std::string(CRMHUB_SOURCE_DIR) + "/config/demo.toml";
  testutil::ChildProcess demo({testutil::CrmhubBinary(), "demo", "--config", config, "--duration",
                               "20s", "--data-dir", (dir.path() / "data").string(), "--orders",
                               "30", "--webhooks", "20", "--contracts", CRMHUB_CONTRACTS_DIR},
                              {}, dir.path() / "demo.log");
  // The demo ends by itself: its stories, then the catch-up (at most 90 s).
  const std::optional<int> exit = demo.Wait(seconds(300));
  ASSERT_TRUE(exit.has_value()) << demo.Output();
  const std::string output = demo.Output();
  EXPECT_EQ(*exit, 0) << output;
  // A row: "  <adapter> <type> <source> <crm> <status=> <dups> <retries>
  // <dead> <stock>  <verdict>".
  auto row = [&](const std::string& adapter) -> std::vector<std::string> {
    // The table follows its title (the lines before describe the run).
    std::stringstream in(output.substr(std::min(output.size(), output.find("\nReconciliation"))));
    for (std::string line; std::getline(in, line);) {
      std::stringstream words(line);
      std::vector<std::string> cells;
      for (std::string w; words >> w;) cells.push_back(w);
      if (cells.size() >= 10 && cells[0] == adapter) return cells;
    }
    return {};
  };
  for (const auto& [adapter, type, count] :
       {std::tuple{"onec-exchange-demo:products", "onec-exchange", 36},
        std::tuple{"onec-exchange-demo:prices", "onec-exchange", 44},
        std::tuple{"onec-exchange-demo:stock", "onec-exchange", 44},
        std::tuple{"onec-exchange-demo:orders", "onec-exchange", 3},
        std::tuple{"tochka-demo", "tochka", 10}, std::tuple{"bank-1c-demo", "bank-1c", 4},
        std::tuple{"billing-demo", "webhook", 12}, std::tuple{"matching", "payment", 13}}) {
    const std::vector<std::string> cells = row(adapter);
    ASSERT_FALSE(cells.empty()) << "no row " << adapter << " in:\n" << output;
    EXPECT_EQ(cells[1], type) << adapter;
    // "payment links" is two words: the counts follow the type.
    const size_t at = std::string_view(type) == "payment" ? 3 : 2;
    EXPECT_EQ(cells[at], cells[at + 1]) << adapter << ": source and crm differ in:\n" << output;
    EXPECT_EQ(cells[at], std::to_string(count)) << adapter << " in:\n" << output;
    EXPECT_EQ(cells.back(), "match") << adapter;
  }
  EXPECT_NE(output.find("1C's exchange: done"), std::string::npos) << output;
}

}  // namespace
}  // namespace crmhub
