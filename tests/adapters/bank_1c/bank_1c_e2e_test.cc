// `crmhub run` with a bank-1c adapter: statements dropped in the inbox end
// as bank transactions in crm.db, through a SIGKILL mid-import, each
// document exactly once (two real identical payments both), a repeated file
// imported once, a damaged file refused whole into failed/ with its lines.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

#include "crm/sqlite_store.h"
#include "tests/adapters/bank_1c/statement_builder.h"
#include "tests/adapters/marketplace_e2e.h"

namespace crmhub::testutil {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

size_t FilesIn(const fs::path& dir) {
  if (!fs::exists(dir)) return 0;
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

TEST(Bank1cE2eTest, InboxToCrmThroughASigkill) {
  constexpr int kFiles = 4;
  constexpr int kPerFile = 1000;
  MarketplaceE2eOptions options;
  options.adapter_id = "bank";
  options.adapter_type = "bank-1c";
  options.mapping = "bank-1c-statement.toml";
  options.adapter_keys =
      "inbox_dir = \"inbox\"\ndone_dir = \"done\"\nfailed_dir = \"failed\"\n"
      "poll_interval = \"100ms\"\nsettle_time = \"0s\"\n";
  MarketplaceE2e e2e(options);
  fs::create_directories(e2e.dir() / "inbox");

  // Four statements of 1000 incoming payments each; the first file's last
  // payment repeats its first one exactly (a second real payment).
  std::string first;
  for (int f = 0; f < kFiles; ++f) {
    std::vector<TestPayment> payments;
    for (int i = 0; i < kPerFile; ++i) {
      payments.push_back({.number = std::to_string(f * kPerFile + i), .kopecks = 1000 + i});
    }
    if (f == 0) payments.back() = payments.front();
    std::string text = BuildStatement(payments, true, fmt::format("0{}.03.2024", f + 3));
    if (f % 2 == 1) text = ToCp1251(text);
    if (f == 0) first = text;
    WriteFile(e2e.dir() / "inbox" / fmt::format("statement-{}.txt", f), text);
  }
  WriteFile(e2e.dir() / "inbox" / "statement-0-again.txt", first);
  std::string damaged = BuildStatement({{.number = "x1"}, {.number = "x2"}});
  damaged.replace(damaged.find("Сумма=1000.00"), std::string("Сумма=1000.00").size(), "Сумма=10оо");
  WriteFile(e2e.dir() / "inbox" / "damaged.txt", damaged);
  const int64_t expected = kFiles * kPerFile;

  SystemClock clock;
  std::unique_ptr<crm::SqliteCrmStore> store;
  auto count = [&]() -> int64_t {
    if (!store) {
      if (!fs::exists(e2e.dir() / "data/crm.db")) return 0;
      crm::SqliteStoreOptions o;
      o.path = e2e.dir() / "data/crm.db";
      auto opened = crm::SqliteCrmStore::Open(o, clock);
      if (!opened.ok()) return 0;
      store = std::move(*opened);
    }
    return store->Count(model::EntityKind::kBankTransaction, std::string("bank")).value_or(0);
  };

  e2e.Start();
  ASSERT_TRUE(e2e.WaitUntil([&] { return count() >= 300; }, seconds(120))) << e2e.child().Output();
  e2e.child().Signal(SIGKILL);
  e2e.child().Wait(std::chrono::seconds(10));
  const int64_t at_kill = count();
  EXPECT_LT(at_kill, expected) << "the kill came after the import";

  e2e.Start();
  const bool all = e2e.WaitUntil(
      [&] { return count() == expected && FilesIn(e2e.dir() / "inbox") == 0; }, seconds(180));
  EXPECT_TRUE(all) << "in crm.db: " << count() << " of " << expected
                   << "; inbox: " << FilesIn(e2e.dir() / "inbox") << "\n"
                   << e2e.child().Output();
  EXPECT_EQ(count(), expected);  // nothing lost, nothing doubled
  EXPECT_EQ(FilesIn(e2e.dir() / "done"), static_cast<size_t>(kFiles + 1));  // + the repeat
  EXPECT_EQ(FilesIn(e2e.dir() / "failed"), 2u);  // damaged.txt and its reason
  const std::string reason = ReadFile(e2e.dir() / "failed/damaged.txt.reason.txt");
  EXPECT_NE(reason.find("line 21: Сумма=\"10оо\" is not an amount"), std::string::npos) << reason;

  // The two identical payments of the first file are two transactions.
  const std::string id = "2024-03-02|0|1000|7707049388|40702810000000000001";
  auto a = store->Find(model::EntityKind::kBankTransaction, "bank", id + "#1");
  auto b = store->Find(model::EntityKind::kBankTransaction, "bank", id + "#2");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->has_value());
  EXPECT_TRUE(b->has_value());
  if (a->has_value()) {
    EXPECT_EQ((*a)->entity.fields["status"], "booked");
    EXPECT_EQ((*a)->entity.fields["direction"], "in");
  }
  e2e.child().Signal(SIGTERM);
  EXPECT_EQ(e2e.child().Wait(std::chrono::seconds(30)), 0);
}

}  // namespace
}  // namespace crmhub::testutil
