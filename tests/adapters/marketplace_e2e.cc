#include "tests/adapters/marketplace_e2e.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <csignal>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

namespace crmhub::testutil {

using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

std::string Config(const MarketplaceE2eOptions& o) {
  return fmt::format(R"([daemon]
data_dir = "data"
io_threads = 2

[log]
level = "warn"

[http]
listen = ["127.0.0.1:0"]

[adapters.{}]
type = "{}"
mapping = "mappings/{}"
{}
)",
                     o.adapter_id, o.adapter_type, o.mapping, o.adapter_keys);
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

MarketplaceE2e::MarketplaceE2e(const MarketplaceE2eOptions& options)
    : options_(options), notify_((dir_.path() / "notify.sock").string()) {
  std::filesystem::create_directories(dir() / "mappings");
  std::filesystem::copy_file(
      std::filesystem::path(CRMHUB_SOURCE_DIR) / "config/mappings" / options_.mapping,
      dir() / "mappings" / options_.mapping);
  for (const auto& [path, text] : options_.files) {
    std::filesystem::create_directories((dir() / path).parent_path());
    WriteFile(dir() / path, text);
  }
  WriteFile(dir() / "crmhub.toml", Config(options_));
}

MarketplaceE2e::~MarketplaceE2e() {
  // Close crm.db before the child dies and the dir goes.
  store_.reset();
  child_.reset();
}

void MarketplaceE2e::Start() {
  child_.reset();
  child_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{CrmhubBinary(), "run", "--config", (dir() / "crmhub.toml").string()},
      std::map<std::string, std::string>{{"NOTIFY_SOCKET", notify_.name()}},
      dir() / fmt::format("daemon-{}.log", ++starts_));
}

bool MarketplaceE2e::WaitUntil(const std::function<bool()>& done, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    notify_.Receive(milliseconds(500));
  }
  return true;
}

std::string MarketplaceE2e::PersistedCursor() const {
  // Read-only and without the queue's own code: this is what a restarted
  // daemon will find, not what a queue object would make of it.
  sqlite3* db = nullptr;
  std::string cursor;
  const std::string path = (dir() / "data/queue.db").string();
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT value FROM state WHERE key = ?", -1, &stmt, nullptr) ==
        SQLITE_OK) {
      const std::string key = "cursor/" + options_.adapter_id;
      sqlite3_bind_text(stmt, 1, key.c_str(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
      if (sqlite3_step(stmt) == SQLITE_ROW) {
        cursor.assign(static_cast<const char*>(sqlite3_column_blob(stmt, 0)),
                      static_cast<size_t>(sqlite3_column_bytes(stmt, 0)));
      }
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return cursor;
}

int64_t MarketplaceE2e::Count(model::EntityKind kind) {
  if (!store_) {
    if (!std::filesystem::exists(dir() / "data/crm.db")) return 0;
    crm::SqliteStoreOptions options;
    options.path = dir() / "data/crm.db";
    auto opened = crm::SqliteCrmStore::Open(options, clock_);
    if (!opened.ok()) return 0;
    store_ = std::move(*opened);
  }
  return store_->Count(kind, options_.adapter_id).value_or(0);
}

int64_t MarketplaceE2e::Orders() { return Count(model::EntityKind::kOrder); }
int64_t MarketplaceE2e::Deals() { return Count(model::EntityKind::kDeal); }
int64_t MarketplaceE2e::Returns() { return Count(model::EntityKind::kReturn); }

bool MarketplaceE2e::AllFinalInStore(const FinalStatuses& expected) {
  if (Orders() != static_cast<int64_t>(expected.size())) return false;
  for (const auto& [id, status] : expected) {
    auto found = store_->Find(model::EntityKind::kOrder, options_.adapter_id, id);
    if (!found.ok() || !found->has_value()) return false;
    if ((*found)->entity.fields.value("status", "") != status) return false;
  }
  return true;
}

std::string MarketplaceE2e::Differences(const FinalStatuses& expected) {
  int missing = 0, wrong = 0;
  std::string examples;
  for (const auto& [id, status] : expected) {
    if (!store_) return "no crm.db\n";
    auto found = store_->Find(model::EntityKind::kOrder, options_.adapter_id, id);
    std::string stored;
    if (!found.ok() || !found->has_value()) {
      ++missing;
      stored = "(missing)";
    } else {
      stored = (*found)->entity.fields.value("status", "");
      if (stored == status) continue;
      ++wrong;
    }
    if (missing + wrong <= 10) examples += fmt::format("  {}: {} != {}\n", id, stored, status);
  }
  return fmt::format("{} orders in the store, {} expected; {} missing, {} with another status\n{}",
                     Orders(), expected.size(), missing, wrong, examples);
}

void ExpectReturnsLandAndReconcile(MarketplaceE2e& e2e,
                                   const std::function<std::optional<ExpectedReturns>()>& expected,
                                   int64_t orders, std::chrono::seconds timeout) {
  SystemClock clock;
  const std::string source = e2e.ConfigSource();
  size_t count = 0;
  auto landed = [&] {
    const std::optional<ExpectedReturns> want = expected();
    if (!want || want->empty() || e2e.Returns() != static_cast<int64_t>(want->size())) {
      return false;
    }
    count = want->size();
    crm::SqliteStoreOptions options;
    options.path = e2e.dir() / "data/crm.db";
    auto store = crm::SqliteCrmStore::Open(options, clock);
    if (!store.ok()) return false;
    for (const auto& [id, r] : *want) {
      auto found = (*store)->Find(model::EntityKind::kReturn, source, id);
      if (!found.ok() || !found->has_value()) return false;
      const nlohmann::json& fields = (*found)->entity.fields;
      if (fields.value("status", "") != r.status) return false;
      if (fields.value("order_external_id", "") != r.order_external_id) return false;
      auto order = (*store)->Find(model::EntityKind::kOrder, source, r.order_external_id);
      if (!order.ok() || !order->has_value()) return false;
    }
    return true;
  };
  ASSERT_TRUE(e2e.WaitUntil(landed, timeout)) << e2e.Returns() << " returns in crm.db\n"
                                              << e2e.child().Output();
  e2e.child().Signal(SIGTERM);
  ASSERT_EQ(e2e.child().Wait(std::chrono::seconds(30)), 0) << e2e.child().Output();

  auto r = RunAndCapture(
      {CrmhubBinary(), "reconcile", "--source", "--json", "--config", e2e.ConfigPath().string()});
  const size_t json_at = r.output.find('[');
  ASSERT_NE(json_at, std::string::npos) << r.output;
  const nlohmann::json rows = nlohmann::json::parse(r.output.substr(json_at), nullptr, false);
  ASSERT_TRUE(rows.is_array() && rows.size() == 1u) << r.output;
  const nlohmann::json& kinds = rows[0]["kinds"];
  EXPECT_EQ(kinds["return"]["entities"], count) << r.output;
  EXPECT_EQ(kinds["return"]["in_crm"], count) << r.output;
  EXPECT_EQ(kinds["order"]["entities"], orders) << r.output;
  EXPECT_EQ(kinds["order"]["in_crm"], orders) << r.output;
  EXPECT_EQ(r.exit_code, 0) << r.output;
  auto table = RunAndCapture(
      {CrmhubBinary(), "reconcile", "--source", "--config", e2e.ConfigPath().string()});
  EXPECT_NE(table.output.find(fmt::format("return {}/{}", count, count)), std::string::npos)
      << table.output;
}

void ExpectReportsLandAndPullOnce(MarketplaceE2e& e2e, const ExpectedReports& expected,
                                  size_t second_run_requests, std::chrono::seconds timeout) {
  SystemClock clock;
  const std::string source = e2e.ConfigSource();
  crm::SqliteStoreOptions options;
  options.path = e2e.dir() / "data/crm.db";
  std::set<std::string> want;
  auto landed = [&] {
    const std::optional<std::set<std::string>> rows = expected.rows();
    if (!rows || rows->empty()) return false;
    auto store = crm::SqliteCrmStore::Open(options, clock);
    if (!store.ok()) return false;
    if ((*store)->Count(model::EntityKind::kReport, source).value_or(-1) !=
        static_cast<int64_t>(rows->size())) {
      return false;
    }
    for (const std::string& id : *rows) {
      auto found = (*store)->Find(model::EntityKind::kReport, source, id);
      if (!found.ok() || !found->has_value()) return false;
    }
    want = *rows;
    return true;
  };
  ASSERT_TRUE(e2e.WaitUntil(landed, timeout)) << "report rows in crm.db\n" << e2e.child().Output();
  e2e.child().Signal(SIGTERM);
  ASSERT_EQ(e2e.child().Wait(std::chrono::seconds(30)), 0) << e2e.child().Output();
  // The journal's report entries, by external id.
  auto journal = [&] {
    std::map<std::string, int> out;
    auto store = crm::SqliteCrmStore::Open(options, clock);
    if (!store.ok()) return out;
    int64_t after = 0;
    for (;;) {
      auto page = (*store)->ReadJournal(after, 1000);
      if (!page.ok() || page->empty()) break;
      for (const crm::JournalEntry& j : *page) {
        if (j.kind == model::EntityKind::kReport && j.source == source) ++out[j.external_id];
        after = j.id;
      }
    }
    return out;
  };
  const std::map<std::string, int> first = journal();
  EXPECT_EQ(first.size(), want.size());

  std::this_thread::sleep_for(expected.pause);
  auto r = RunAndCapture(
      {CrmhubBinary(), "reconcile", "--source", "--json", "--config", e2e.ConfigPath().string()});
  const size_t json_at = r.output.find('[');
  ASSERT_NE(json_at, std::string::npos) << r.output;
  const nlohmann::json rows = nlohmann::json::parse(r.output.substr(json_at), nullptr, false);
  ASSERT_TRUE(rows.is_array() && rows.size() == 1u) << r.output;
  const nlohmann::json& kinds = rows[0]["kinds"];
  EXPECT_EQ(kinds["report"]["entities"], want.size()) << r.output;
  EXPECT_EQ(kinds["report"]["in_crm"], want.size()) << r.output;

  // The second run, from the cursor the first one left.
  std::this_thread::sleep_for(expected.pause);
  const size_t before = expected.answered();
  e2e.Start();
  ASSERT_TRUE(
      e2e.WaitUntil([&] { return expected.answered() >= before + second_run_requests; }, timeout))
      << "the second run asked for no report\n"
      << e2e.child().Output();
  std::this_thread::sleep_for(std::chrono::seconds(1));  // its events applied
  e2e.child().Signal(SIGTERM);
  ASSERT_EQ(e2e.child().Wait(std::chrono::seconds(30)), 0) << e2e.child().Output();
  auto store = crm::SqliteCrmStore::Open(options, clock);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Count(model::EntityKind::kReport, source).value_or(-1),
            static_cast<int64_t>(want.size()));
  EXPECT_EQ(journal(), first) << "a report row was written again by the second run";
}

void RunKillAndResume(MarketplaceE2e& e2e, const KillAndResumeOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  e2e.Start();
  // Mid-sync: some orders applied, far from all.
  ASSERT_TRUE(e2e.WaitUntil([&] { return e2e.Orders() >= o.kill_after_orders; }, o.until_kill))
      << e2e.Orders() << " orders in the store\n"
      << e2e.child().Output();
  e2e.child().Signal(SIGKILL);
  ASSERT_TRUE(e2e.child().Wait(seconds(10)).has_value());
  const int64_t at_kill = e2e.Orders();
  EXPECT_LT(at_kill, o.orders) << "the kill came after the sync, not in the middle of it";
  const double kill_s = SecondsSince(start);
  const std::string cursor = e2e.PersistedCursor();
  ASSERT_FALSE(cursor.empty()) << "no cursor persisted before the kill";
  if (o.at_kill) o.at_kill(cursor);
  e2e.Start();

  // Done when the world has ended and the store holds every final status.
  std::optional<FinalStatuses> expected;
  auto all_final_in_store = [&] {
    if (!expected) expected = o.final_statuses();
    return expected && e2e.AllFinalInStore(*expected);
  };
  bool done = e2e.WaitUntil(all_final_in_store, o.until_all_final);
  ASSERT_TRUE(expected.has_value()) << "the simulated world never ended";
  ASSERT_EQ(expected->size(), static_cast<size_t>(o.orders));
  ASSERT_TRUE(done) << e2e.Differences(*expected) << e2e.child().Output();
  // Exactly once: one order and one deal per marketplace order, no more.
  EXPECT_EQ(e2e.Orders(), o.orders);
  EXPECT_EQ(e2e.Deals(), o.orders);
  fmt::print("killed at {:.1f} s with {} orders in the store; all {} final at {:.1f} s\n", kill_s,
             at_kill, o.orders, SecondsSince(start));
  e2e.child().Signal(SIGTERM);
  EXPECT_EQ(e2e.child().Wait(seconds(30)), 0) << e2e.child().Output();
}

MarketplaceE2eOptions OptionsFor(const simkit::Simulator& sim, std::string adapter_id,
                                 std::string mapping, const std::string& keys) {
  const simkit::AdapterWiring wiring = sim.Wiring();
  MarketplaceE2eOptions o{.adapter_id = std::move(adapter_id),
                          .adapter_type = wiring.type,
                          .mapping = std::move(mapping),
                          .adapter_keys = wiring.keys};
  for (const auto& [key, value] : wiring.secrets) {
    const std::string file = "secrets/" + key;
    o.files[file] = value;
    o.adapter_keys += fmt::format("{} = {}\n", key, simkit::TomlString(file));
  }
  o.adapter_keys += keys;
  return o;
}

std::function<std::optional<FinalStatuses>()> FinalStatusesOf(const simkit::Simulator& sim,
                                                              const Clock& clock) {
  return [&sim, &clock]() -> std::optional<FinalStatuses> {
    if (clock.Now() < sim.AllFinalAt()) return std::nullopt;
    return sim.OrderStatuses(/*final_only=*/true);
  };
}

simkit::FaultSpec TwentyPercentFaults() {
  simkit::FaultSpec faults =
      simkit::ParseFaultSpec(
          "429=0.05,500=0.04,503=0.03,timeout=0.02,slow=0.02,dup=0.02,malformed=0.02")
          .value();
  faults.slow_delay = milliseconds(100);
  return faults;
}

uint64_t LogPosition(const simkit::RequestLog& log) { return log.size() + log.dropped(); }

std::optional<simkit::LoggedRequest> FirstRequestAfter(const simkit::RequestLog& log,
                                                       uint64_t position, std::string_view method,
                                                       std::string_view path) {
  for (auto& r : log.Find(method, path)) {
    if (r.seq > position) return std::move(r);
  }
  return std::nullopt;
}

void ExpectInjectedFaults(const simkit::RequestLog& log) {
  int faults = 0, requests = 0;
  for (const auto& r : log.Snapshot()) {
    ++requests;
    if (r.fault != simkit::Fault::kNone) ++faults;
  }
  // Each request draws a fault with probability p, so the count is binomial.
  // A fixed share (it was "more than 10 %") fails by chance on short runs:
  // Wildberries pulls 10,000 orders in about 45 requests, where 4 or fewer
  // faults happen in 4 % of runs. The bound is four standard deviations
  // below the mean (a false alarm in about 1 of 30,000 runs), and at least
  // one fault in any case (none in 45 requests: 1 in 20,000).
  const double p = TwentyPercentFaults().Total();
  const double mean = requests * p;
  const double floor = mean - 4 * std::sqrt(requests * p * (1 - p));
  EXPECT_GE(faults, 1) << "no fault injected in " << requests << " requests";
  EXPECT_GE(faults, floor) << faults << " faults in " << requests << " requests; expected about "
                           << mean;
}

}  // namespace crmhub::testutil
