// The bank-1c adapter on real folders: one file a pull, moved to done only
// once the runtime hands back its cursor, refused files to failed with
// their lines, repeated files recognised, payment orders kept apart from
// booked money, uploads checked at once; and the upload route of the admin
// API (POST /api/v1/adapters/{id}/files).

#include "adapters/bank_1c/bank_1c_adapter.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/adapters/bank_1c/statement_builder.h"
#include "tests/daemon/http_routes_harness.h"
#include "tests/daemon/test_support.h"

namespace crmhub::adapters::bank_1c {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testutil::BuildStatement;
using testutil::TestPayment;

std::vector<std::string> Names(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

class Bank1cAdapterTest : public ::testing::Test {
 protected:
  Bank1cAdapterTest() {
    Bank1cConfig c;
    c.id = "bank";
    c.inbox_dir = dir_.path() / "inbox";
    c.done_dir = dir_.path() / "done";
    c.failed_dir = dir_.path() / "failed";
    c.settle_time = std::chrono::seconds(0);
    config_ = c;
    Rebuild();
  }
  void Rebuild() {
    adapter_ = std::make_unique<Bank1cAdapter>(config_, clock_, &metrics_);
    EXPECT_TRUE(adapter_->Prepare().ok());
  }
  void Drop(const std::string& name, const std::string& bytes) {
    testutil::WriteFile(config_.inbox_dir / name, bytes);
  }
  fs::path inbox() const { return config_.inbox_dir; }
  fs::path done() const { return config_.done_dir; }
  fs::path failed() const { return config_.failed_dir; }

  testutil::TempDir dir_;
  SystemClock clock_;
  MetricsRegistry metrics_;
  Bank1cConfig config_;
  std::unique_ptr<Bank1cAdapter> adapter_;
};

TEST_F(Bank1cAdapterTest, AFileIsQueuedThenMovedOnceItsCursorComesBack) {
  Drop("statement.txt", BuildStatement({{.number = "1"}, {.number = "2"}, {.number = "1"}}));
  auto page = adapter_->Pull(std::nullopt);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->events.size(), 3u);
  EXPECT_FALSE(page->more);
  ASSERT_TRUE(page->next_cursor.has_value());
  // Not moved before the events are durable (the next pull says so).
  EXPECT_EQ(Names(inbox()), std::vector<std::string>{"statement.txt"});
  std::set<std::string> keys;
  for (const auto& e : page->events) {
    keys.insert(e.idempotency_key);
    EXPECT_EQ(e.kind, "bank_transaction");
    json doc = json::parse(e.payload);
    EXPECT_EQ(doc["_status"], "booked");
    EXPECT_EQ(doc["_direction"], "in");
  }
  EXPECT_EQ(keys, (std::set<std::string>{
                      "bank-1c:booked:2024-03-02|1|100000|7707049388|40702810000000000001#1",
                      "bank-1c:booked:2024-03-02|2|100000|7707049388|40702810000000000001#1",
                      // the same payer paying the same again under one number: both stay
                      "bank-1c:booked:2024-03-02|1|100000|7707049388|40702810000000000001#2"}));
  // A crash before the cursor was saved: the same file, the same keys.
  auto again = adapter_->Pull(std::nullopt);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->events.size(), 3u);
  EXPECT_EQ(again->events[0].idempotency_key, page->events[0].idempotency_key);

  auto next = adapter_->Pull(page->next_cursor);
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE(next->events.empty());
  EXPECT_TRUE(Names(inbox()).empty());
  ASSERT_EQ(Names(done()).size(), 1u);
  EXPECT_TRUE(Names(done())[0].ends_with("_statement.txt"));
}

TEST_F(Bank1cAdapterTest, TheSameBytesAgainAreNotImportedAgain) {
  const std::string file = BuildStatement({{.number = "1"}});
  Drop("a.txt", file);
  auto page = adapter_->Pull(std::nullopt);
  ASSERT_TRUE(page.ok());
  ASSERT_TRUE(adapter_->Pull(page->next_cursor).ok());
  Drop("a-copy.txt", file);
  auto repeat = adapter_->Pull(page->next_cursor);
  ASSERT_TRUE(repeat.ok());
  EXPECT_TRUE(repeat->events.empty());
  EXPECT_TRUE(repeat->more);
  EXPECT_TRUE(Names(inbox()).empty());
  EXPECT_EQ(Names(done()).size(), 2u);
}

TEST_F(Bank1cAdapterTest, ADamagedFileGoesToFailedWithItsLinesAndNothingIsQueued) {
  std::string bad = BuildStatement({{.number = "1"}, {.number = "2"}});
  bad.replace(bad.find("КонечныйОстаток=2000.00"), std::string("КонечныйОстаток=2000.00").size(),
              "КонечныйОстаток=1999.00");
  bad.replace(bad.find("Номер=2\r\n"), std::string("Номер=2\r\n").size(), "");
  Drop("bad.txt", bad);
  std::string truncated = BuildStatement({{.number = "3"}});
  Drop("truncated.txt", truncated.substr(0, truncated.size() / 2));
  for (int i = 0; i < 2; ++i) {
    auto page = adapter_->Pull(std::nullopt);
    ASSERT_TRUE(page.ok());
    EXPECT_TRUE(page->events.empty());
    EXPECT_TRUE(page->more);
  }
  EXPECT_TRUE(Names(inbox()).empty());
  EXPECT_EQ(Names(failed()),
            (std::vector<std::string>{"bad.txt", "bad.txt.reason.txt", "truncated.txt",
                                      "truncated.txt.reason.txt"}));
  const std::string reason = Read(failed() / "bad.txt.reason.txt");
  EXPECT_NE(reason.find("line 16: the balances do not add up"), std::string::npos) << reason;
  EXPECT_NE(reason.find("has no Номер"), std::string::npos) << reason;
  const std::string cut = Read(failed() / "truncated.txt.reason.txt");
  EXPECT_NE(cut.find("(truncated?)"), std::string::npos) << cut;
  EXPECT_EQ(Read(failed() / "bad.txt"), bad);  // kept as it came
}

TEST_F(Bank1cAdapterTest, PaymentOrdersAreNeverBookedMoney) {
  Drop("orders.txt", testutil::ToCp1251(BuildStatement({{.number = "7"}}, /*balances=*/false)));
  auto page = adapter_->Pull(std::nullopt);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->events.size(), 1u);
  EXPECT_EQ(page->events[0].idempotency_key,
            "bank-1c:prepared:2024-03-02|7|100000|7707049388|40702810000000000001#1");
  EXPECT_EQ(json::parse(page->events[0].payload)["_status"], "prepared");
}

TEST_F(Bank1cAdapterTest, OtherAccountsAreRefusedWhenAccountsAreSet) {
  config_.accounts = {"40702810000000000002"};
  Rebuild();
  Drop("x.txt", BuildStatement({{.number = "1"}}));
  auto page = adapter_->Pull(std::nullopt);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->events.empty());
  EXPECT_NE(Read(failed() / "x.txt.reason.txt").find("is not one of this adapter's accounts"),
            std::string::npos);
}

TEST_F(Bank1cAdapterTest, AFileStillBeingWrittenIsLeftForLater) {
  config_.settle_time = std::chrono::hours(1);
  Rebuild();
  Drop("new.txt", BuildStatement({{.number = "1"}}));
  Drop(".hidden.txt", BuildStatement({{.number = "2"}}));
  auto page = adapter_->Pull(std::nullopt);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->events.empty());
  EXPECT_EQ(Names(inbox()).size(), 2u);
}

TEST_F(Bank1cAdapterTest, UploadsAreCheckedAtOnce) {
  const std::string file = BuildStatement({{.number = "1"}});
  net::HttpResponse stored = adapter_->AcceptFile(file, "march.txt");
  EXPECT_EQ(stored.status, 202) << stored.body;
  json body = json::parse(stored.body);
  EXPECT_EQ(body["documents"], 1);
  EXPECT_EQ(body["kind"], "statement");
  ASSERT_EQ(Names(inbox()).size(), 1u);
  auto page = adapter_->Pull(std::nullopt);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 1u);
  ASSERT_TRUE(adapter_->Pull(page->next_cursor).ok());
  EXPECT_EQ(adapter_->AcceptFile(file, "march.txt").status, 200);  // imported before

  net::HttpResponse refused = adapter_->AcceptFile(file.substr(0, 200), "../../etc/passwd");
  EXPECT_EQ(refused.status, 422);
  EXPECT_NE(refused.body.find("line"), std::string::npos) << refused.body;
  for (const std::string& name : Names(failed())) {
    EXPECT_EQ(name.find('/'), std::string::npos);
    EXPECT_TRUE(name.starts_with("upload-")) << name;
  }
  EXPECT_EQ(Names(failed()).size(), 2u);  // the file and its reason
}

TEST(Bank1cUploadRouteTest, ThroughTheAdminApi) {
  daemon::testing::Harness h;
  testutil::TempDir dir;
  SystemClock clock;
  Bank1cConfig c;
  c.id = "bank";
  c.inbox_dir = dir.path() / "inbox";
  c.done_dir = dir.path() / "done";
  c.failed_dir = dir.path() / "failed";
  auto adapter = std::make_shared<Bank1cAdapter>(c, clock, nullptr);
  ASSERT_TRUE(adapter->Prepare().ok());
  h.AddAdapter(adapter);
  h.Start(/*serve=*/true);
  const std::vector<std::pair<std::string, std::string>> auth = {
      {"Authorization", "Bearer admin-token-123"}};
  auto ok = h.Http("POST", "/api/v1/adapters/bank/files?name=s.txt",
                   BuildStatement({{.number = "1"}}), auth);
  EXPECT_EQ(ok.status, 202) << ok.body;
  EXPECT_EQ(Names(c.inbox_dir).size(), 1u);
  EXPECT_EQ(h.Http("POST", "/api/v1/adapters/bank/files", "garbage", auth).status, 422);
  EXPECT_EQ(h.Http("POST", "/api/v1/adapters/nope/files", "x", auth).status, 404);
  EXPECT_EQ(h.Http("GET", "/api/v1/adapters/bank/files", "", auth).status, 405);
  EXPECT_EQ(h.Http("POST", "/api/v1/adapters/bank/files", "x").status, 401);
  // Recorded in the audit journal as an upload.
  auto audit = h.Http("GET", "/api/v1/audit?last=5", "", auth);
  EXPECT_NE(audit.body.find("upload_file"), std::string::npos) << audit.body;
}

}  // namespace
}  // namespace crmhub::adapters::bank_1c
