// `crmhub queue stats` and `crmhub dlq ...` run as real processes on a
// database prepared through the engine.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "queue/sqlite_queue.h"
#include "tests/queue/test_util.h"

namespace crmhub::queue {
namespace {

using std::chrono::seconds;
using testing::Msg;

using testing::CliRun;

CliRun Crmhub(const std::string& args) { return testing::RunCrmhub(args); }

class QueueCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Dead letters that failed in 2023 (ManualClock's start): old enough to purge.
    ManualClock clock;
    SqliteQueueOptions options;
    options.data_dir = dir_.path();
    auto q = SqliteQueue::Open(clock, options);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    NewMessage bad = Msg("in.site", "bad-1", "{\"raw\":true}");
    bad.headers = {{"X-Id", "7"}};
    ASSERT_TRUE((*q)->Enqueue(bad).ok());
    ASSERT_TRUE((*q)->Enqueue(Msg("in.site", "bad-2")).ok());
    auto leased = (*q)->Lease("in.site", 2, seconds(30));
    ASSERT_EQ(leased->size(), 2u);
    for (const auto& l : *leased) ASSERT_TRUE((*q)->Fail(l.lease, "mapping: no field x").ok());
    ASSERT_TRUE((*q)->Enqueue(Msg("out.ozon", "cmd-1")).ok());
    flags_ = " --data-dir " + dir_.path().string();
  }

  testing::TempDir dir_;
  std::string flags_;
};

TEST_F(QueueCliTest, StatsJson) {
  CliRun r = Crmhub("queue stats --json" + flags_);
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["depth"], 1);
  ASSERT_EQ(j["lanes"].size(), 2u);
  EXPECT_EQ(j["lanes"][0]["lane"], "in.site");
  EXPECT_EQ(j["lanes"][0]["dead"], 2);
  EXPECT_EQ(j["lanes"][1]["lane"], "out.ozon");
  EXPECT_EQ(j["lanes"][1]["ready"], 1);
  CliRun text = Crmhub("queue stats" + flags_);
  EXPECT_EQ(text.code, 0);
  EXPECT_NE(text.out.find("out.ozon"), std::string::npos);
}

// Issue 22, item 10: `dlq show` without --json is for people, and `dlq
// list` does not cut the reason before the part that says why.
TEST_F(QueueCliTest, DlqShowIsTextWithoutJsonAndListKeepsTheWholeReason) {
  {
    ManualClock clock;
    SqliteQueueOptions options;
    options.data_dir = dir_.path();
    auto q = SqliteQueue::Open(clock, options);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    ASSERT_TRUE((*q)->Enqueue(Msg("in.site", "long-1")).ok());
    auto leased = (*q)->Lease("in.site", 1, seconds(30));
    ASSERT_EQ(leased->size(), 1u);
    ASSERT_TRUE((*q)->Fail((*leased)[0].lease,
                           "mapping: rule \"contact\" field \"phone\": /customer/contacts/0/"
                           "phone: not a phone number in the RU plan: the part that says why")
                    .ok());
  }
  CliRun list = Crmhub("dlq list" + flags_);
  ASSERT_EQ(list.code, 0);
  EXPECT_NE(list.out.find("the part that says why"), std::string::npos) << list.out;
  auto items = nlohmann::json::parse(Crmhub("dlq list --json" + flags_).out);
  CliRun show = Crmhub("dlq show " + std::to_string(items[0]["id"].get<int64_t>()) + flags_);
  ASSERT_EQ(show.code, 0);
  EXPECT_TRUE(nlohmann::json::parse(show.out, nullptr, false).is_discarded()) << show.out;
  EXPECT_NE(show.out.find("reason:          mapping: no field x"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("{\"raw\":true}"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("header:          X-Id: 7"), std::string::npos) << show.out;
}

TEST_F(QueueCliTest, DlqListShowReplayDropPurge) {
  CliRun list = Crmhub("dlq list --json" + flags_);
  ASSERT_EQ(list.code, 0);
  auto items = nlohmann::json::parse(list.out);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["reason"], "mapping: no field x");
  const int64_t first = items[0]["id"], second = items[1]["id"];

  CliRun show = Crmhub("dlq show " + std::to_string(first) + " --json" + flags_);
  ASSERT_EQ(show.code, 0);
  auto d = nlohmann::json::parse(show.out);
  EXPECT_EQ(d["payload"], "{\"raw\":true}");
  EXPECT_EQ(d["headers"][0][0], "X-Id");
  EXPECT_EQ(d["history"].size(), 1u);

  // Issue 22, item 4: the CLI says the message keeps its id and history.
  CliRun replay = Crmhub("dlq replay " + std::to_string(first) + flags_);
  EXPECT_EQ(replay.code, 0);
  EXPECT_NE(
      replay.out.find("as message " + std::to_string(first) + " (same id; its history is kept)"),
      std::string::npos)
      << replay.out;
  EXPECT_EQ(Crmhub("dlq drop 999999" + flags_).code, 1);
  EXPECT_EQ(Crmhub("dlq show 999999" + flags_).code, 1);
  CliRun purge = Crmhub("dlq purge --older-than 30d" + flags_);
  EXPECT_EQ(purge.code, 0);
  EXPECT_NE(purge.out.find("purged 1"), std::string::npos) << purge.out;
  EXPECT_EQ(nlohmann::json::parse(Crmhub("dlq list --json" + flags_).out).size(), 0u);
  EXPECT_EQ(Crmhub("dlq drop " + std::to_string(second) + flags_).code, 1) << "already purged";

  // The replayed one is back on its lane.
  auto stats = nlohmann::json::parse(Crmhub("queue stats --json" + flags_).out);
  EXPECT_EQ(stats["depth"], 2);
}

// Every `dlq` action that changes the queue is one entry of the audit
// journal, named cli:<user>; reads add none; `crmhub audit` prints them.
TEST_F(QueueCliTest, DlqChangesAreJournaledAndAuditPrintsThem) {
  EXPECT_EQ(nlohmann::json::parse(Crmhub("audit --json" + flags_).out).size(), 0u)
      << "no journal yet: an empty list";
  auto items = nlohmann::json::parse(Crmhub("dlq list --json" + flags_).out);
  ASSERT_EQ(items.size(), 2u);
  const std::string first = std::to_string(items[0]["id"].get<int64_t>());
  ASSERT_EQ(Crmhub("dlq show " + first + flags_).code, 0);
  ASSERT_EQ(Crmhub("dlq replay " + first + flags_).code, 0);
  ASSERT_EQ(Crmhub("dlq drop 999999" + flags_).code, 1);
  ASSERT_EQ(Crmhub("dlq replay --all --lane in.site" + flags_).code, 0);
  ASSERT_EQ(Crmhub("dlq purge --older-than 30d" + flags_).code, 0);

  CliRun audit = Crmhub("audit --json" + flags_);
  ASSERT_EQ(audit.code, 0) << audit.out;
  auto entries = nlohmann::json::parse(audit.out);
  ASSERT_EQ(entries.size(), 4u) << audit.out;
  const std::vector<std::pair<std::string, std::string>> want = {{"replay_dead_letter", "ok"},
                                                                 {"drop_dead_letter", "failed"},
                                                                 {"replay_dead_letters", "ok"},
                                                                 {"purge_dead_letters", "ok"}};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(entries[i]["action"], want[i].first) << i;
    EXPECT_EQ(entries[i]["result"], want[i].second) << i;
    EXPECT_EQ(entries[i]["via"], "cli");
    EXPECT_EQ(entries[i]["actor"].get<std::string>().rfind("cli:", 0), 0u);
  }
  EXPECT_EQ(entries[0]["target"], first);
  EXPECT_EQ(entries[1]["detail"]["failed"].size(), 1u);
  EXPECT_EQ(entries[2]["target"], "lane in.site");
  EXPECT_EQ(entries[2]["detail"]["replayed"], 1);
  EXPECT_EQ(entries[3]["detail"]["purged"], 0);

  CliRun last = Crmhub("audit --last 1" + flags_);
  ASSERT_EQ(last.code, 0);
  EXPECT_NE(last.out.find("purge_dead_letters"), std::string::npos) << last.out;
  EXPECT_EQ(last.out.find("replay_dead_letter "), std::string::npos) << last.out;
  EXPECT_EQ(Crmhub("audit --last 1 --after 2" + flags_).code, 2);
  auto paged = nlohmann::json::parse(Crmhub("audit --json --after 2 --limit 1" + flags_).out);
  ASSERT_EQ(paged.size(), 1u);
  EXPECT_EQ(paged[0]["id"], 3);
}

TEST_F(QueueCliTest, UsageErrorsExitTwoAndMissingDatabaseExitsOne) {
  EXPECT_EQ(Crmhub("dlq list").code, 2) << "no --data-dir/--config";
  EXPECT_EQ(Crmhub("dlq" + flags_).code, 2);
  EXPECT_EQ(Crmhub("dlq replay" + flags_).code, 2);
  EXPECT_EQ(Crmhub("dlq purge" + flags_).code, 2);
  EXPECT_EQ(Crmhub("queue stats --data-dir " + dir_.path().string() + "/nothing-here").code, 1);
  EXPECT_EQ(Crmhub("bench nosuchkind").code, 2);
}

}  // namespace
}  // namespace crmhub::queue
