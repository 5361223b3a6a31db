// The routine a robot takes over from the CRM's users, on a real crm.db:
// what the Mango adapter queues, mapped by the shipped rules
// (config/mappings/mango-calls.toml; a website form by site-lead.toml) and
// applied by the CRM store as the daemon applies it.
//  * a missed-call task is closed by a later answered call from the number,
//    or by a call out to it (a callback), and by nothing else;
//  * a form and a call from one number make one lead, whichever came first.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/mango/mango_adapter.h"
#include "base/clock.h"
#include "crm/sqlite_store.h"
#include "crm/store_schema.h"
#include "mapping/rules/rule_set.h"
#include "net/api_client.h"

namespace crmhub::adapters::mango {
namespace {

using nlohmann::json;

constexpr int64_t kMidnight = 1700006400;  // 2023-11-15 00:00:00 UTC
const std::string kKey = "routine-key";
const std::string kSalt = "routine-salt";

std::string ReadContract(const std::string& name) {
  std::ifstream in(std::string(CRMHUB_CONTRACTS_DIR) + "/telephony/mango/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A summary as Mango sends it (the contract's example 1, reshaped): direction
// 1 incoming or 2 outgoing, answered or not, ended at `end_s`.
json Summary(const std::string& entry_id, int direction, bool answered, const std::string& number,
             int64_t end_s) {
  json s = json::parse(ReadContract("events_summary_ex1_incoming_answered_doc_3.1.6.json"), nullptr,
                       /*allow_exceptions=*/false);
  s["entry_id"] = entry_id;
  s["call_direction"] = direction;
  s["entry_result"] = answered ? 1 : 0;
  s["create_time"] = end_s - 60;
  s["forward_time"] = end_s - 50;
  s["talk_time"] = answered ? end_s - 40 : 0;
  s["end_time"] = end_s;
  if (direction == 1) {
    s["from"] = {{"number", number}};
    s["to"] = {{"extension", "101"}, {"number", "74950000000"}};
  } else {
    s["from"] = {{"extension", "101"}, {"number", "74950000000"}};
    s["to"] = {{"number", number}};
  }
  return s;
}

class MangoRoutineTest : public ::testing::Test {
 protected:
  MangoRoutineTest()
      : calls_(mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) +
                                  "/config/mappings/mango-calls.toml")),
        forms_(mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) +
                                  "/config/mappings/site-lead.toml")) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "crmhub-routine-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    dir_ = tmpl;
    crm::SqliteStoreOptions o;
    o.path = dir_ / std::string(crm::kCrmDbFileName);
    o.lead_merge_window = std::chrono::hours(24);  // [crm] lead_merge_window's default
    store_ = crm::SqliteCrmStore::Open(o, clock_).value();
    MangoConfig c;
    c.id = "mango-main";
    c.account_key = Secret(kKey);
    c.signing_key = Secret(kSalt);
    adapter_ = std::make_unique<MangoAdapter>(std::move(c), nullptr);
  }
  ~MangoRoutineTest() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Everything the adapter queues for the summary, mapped and applied.
  void Call(const json& summary) {
    for (const InboundEvent& e : Queued(summary)) Apply(*calls_, "mango-main", e);
  }

  // What the adapter queues for the summary.
  std::vector<InboundEvent> Queued(const json& summary) {
    EXPECT_TRUE(calls_.ok()) << calls_.status().ToString();
    const std::string event = summary.dump();
    net::HttpRequest r;
    r.method = "POST";
    r.target = r.path = "/hooks/mango-main/events/summary";
    r.body = "vpbx_api_key=" + net::UrlEncode(kKey) +
             "&sign=" + net::UrlEncode(MangoSign(kKey, event, kSalt)) +
             "&json=" + net::UrlEncode(event);
    r.remote_address = "81.88.80.132";
    r.headers.Set("Content-Type", "application/x-www-form-urlencoded");
    auto queued = adapter_->HandleWebhook(r);
    EXPECT_TRUE(queued.ok()) << queued.status().ToString();
    return queued.ok() ? queued->events : std::vector<InboundEvent>{};
  }

  // A website form through the generic webhook's rules.
  void Form(const std::string& id, const std::string& phone) {
    ASSERT_TRUE(forms_.ok()) << forms_.status().ToString();
    InboundEvent e;
    e.idempotency_key = "form-" + id;
    e.payload = json{{"id", id}, {"name", "Ivan"}, {"phone", phone}, {"message", "call me"}}.dump();
    Apply(*forms_, "site", e);
  }

  void Apply(const mapping::RuleSet& rules, const std::string& source, const InboundEvent& e) {
    const int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
            .count();
    auto entities = rules.ApplyText(e.payload, {.source = source, .received_ms = now_ms});
    ASSERT_TRUE(entities.ok()) << entities.status().ToString();
    crm::SinkEvent ev;
    ev.source = source;
    ev.idempotency_key = e.idempotency_key;
    ev.message_id = ++messages_;
    ev.received_at = clock_.Now();
    ev.entities = std::move(*entities);
    for (const auto& outcome : store_->Apply({ev})) ASSERT_TRUE(outcome.ok()) << outcome.error;
  }

  // The task of the number's window holding `at`: its status, or "<absent>".
  std::string Task(const std::string& e164, int64_t at) {
    auto t = store_->Find(model::EntityKind::kTask, "mango-main",
                          e164 + ":" + std::to_string(at - at % 86400));
    if (!t.ok() || !t->has_value()) return "<absent>";
    return (**t).entity.fields.value("status", "<none>");
  }
  int64_t Count(model::EntityKind kind) { return store_->Count(kind).value(); }

  ManualClock clock_{SystemTime(std::chrono::seconds(kMidnight + 3600))};
  Result<mapping::RuleSet> calls_;
  Result<mapping::RuleSet> forms_;
  std::filesystem::path dir_;
  std::unique_ptr<crm::SqliteCrmStore> store_;
  std::unique_ptr<MangoAdapter> adapter_;
  int64_t messages_ = 0;
};

TEST_F(MangoRoutineTest, AnsweredCallFromTheNumberClosesItsMissedCallTask) {
  Call(Summary("E1", 1, false, "79161234567", kMidnight + 600));
  EXPECT_EQ(Task("+79161234567", kMidnight), "open");
  // Another number's answered call, and the same caller's second missed
  // call, close nothing.
  Call(Summary("E2", 1, true, "79160000000", kMidnight + 700));
  Call(Summary("E3", 1, false, "79161234567", kMidnight + 800));
  EXPECT_EQ(Task("+79161234567", kMidnight), "open");
  // The caller gets through, spelled another way: the task is done, its
  // assignee and due time kept, the closing call named.
  Call(Summary("E4", 1, true, "+7 (916) 123-45-67", kMidnight + 900));
  EXPECT_EQ(Task("+79161234567", kMidnight), "done");
  auto task = store_->Find(model::EntityKind::kTask, "mango-main",
                           "+79161234567:" + std::to_string(kMidnight));
  ASSERT_TRUE(task.ok() && task->has_value());
  EXPECT_EQ((**task).entity.fields.value("assignee", ""), "101");
  EXPECT_EQ((**task).entity.fields.value("due_ms", int64_t{0}), (kMidnight + 600 + 3600) * 1000);
  EXPECT_EQ((**task).entity.fields["extra"].value("closed_by_call", ""), "E4");
  // No task was made for the number that was never missed.
  EXPECT_EQ(Task("+79160000000", kMidnight), "<absent>");
  EXPECT_EQ(Count(model::EntityKind::kTask), 1);
}

TEST_F(MangoRoutineTest, CallbackClosesYesterdaysTaskButNotALaterOne) {
  Call(Summary("E1", 1, false, "79161234567", kMidnight - 600));  // late yesterday
  EXPECT_EQ(Task("+79161234567", kMidnight - 600), "open");
  // A callback that nobody answered closes nothing.
  Call(Summary("O1", 2, false, "79161234567", kMidnight + 100));
  EXPECT_EQ(Task("+79161234567", kMidnight - 600), "open");
  // The manager calls back next morning and gets through.
  Call(Summary("O2", 2, true, "89161234567", kMidnight + 3600));
  EXPECT_EQ(Task("+79161234567", kMidnight - 600), "done");
  // A call missed after the callback is a new task, and stays open.
  Call(Summary("E5", 1, false, "79161234567", kMidnight + 7200));
  EXPECT_EQ(Task("+79161234567", kMidnight + 7200), "open");
  // Redelivered, the callback changes nothing.
  Call(Summary("O2", 2, true, "89161234567", kMidnight + 3600));
  EXPECT_EQ(Task("+79161234567", kMidnight + 7200), "open");
  EXPECT_EQ(Count(model::EntityKind::kTask), 2);
}

// The provider's notifications out of order: the callback's summary is
// delivered before the missed call's. The task ends closed all the same.
TEST_F(MangoRoutineTest, ClosureDeliveredBeforeItsTaskStillClosesIt) {
  const std::vector<InboundEvent> missed =
      Queued(Summary("E1", 1, false, "79161234567", kMidnight + 600));
  const std::vector<InboundEvent> callback =
      Queued(Summary("O1", 2, true, "79161234567", kMidnight + 1200));
  for (const InboundEvent& e : callback) Apply(*calls_, "mango-main", e);
  EXPECT_EQ(Task("+79161234567", kMidnight), "<absent>");  // nothing made
  for (const InboundEvent& e : missed) Apply(*calls_, "mango-main", e);
  EXPECT_EQ(Task("+79161234567", kMidnight), "done");
  // A closure older than the task it waited for does not close it.
  for (const InboundEvent& e : Queued(Summary("O2", 2, true, "79160000000", kMidnight + 1300))) {
    Apply(*calls_, "mango-main", e);
  }
  for (const InboundEvent& e : Queued(Summary("E2", 1, false, "79160000000", kMidnight + 1400))) {
    Apply(*calls_, "mango-main", e);
  }
  EXPECT_EQ(Task("+79160000000", kMidnight), "open");
}

TEST_F(MangoRoutineTest, FormThenCallFromTheNumberMakeOneLead) {
  Form("4711", "8 (916) 123-45-67");
  clock_.Advance(std::chrono::hours(2));
  Call(Summary("E1", 1, true, "79161234567", kMidnight + 3 * 3600));
  EXPECT_EQ(Count(model::EntityKind::kLead), 1);
  auto lead = store_->Find(model::EntityKind::kLead, "site", "site-4711");
  ASSERT_TRUE(lead.ok() && lead->has_value());
  EXPECT_EQ((**lead).entity.fields.value("channel", ""), "site");  // what it held stays
  // The call's lead is a reference to it.
  auto ref = store_->FindAnyKind("mango-main", "call:79161234567");
  ASSERT_TRUE(ref.ok());
  ASSERT_EQ(ref->size(), 1u);
  EXPECT_EQ((*ref)[0].id, (**lead).id);
  // Another call from the number, and a form from another number, later.
  Call(Summary("E2", 1, false, "79161234567", kMidnight + 4 * 3600));
  Form("4712", "+7 916 000-00-00");
  EXPECT_EQ(Count(model::EntityKind::kLead), 2);
}

TEST_F(MangoRoutineTest, CallThenFormFromTheNumberMakeOneLeadWithinTheWindowOnly) {
  Call(Summary("E1", 1, false, "79161234567", kMidnight + 600));
  clock_.Advance(std::chrono::hours(1));
  Form("4711", "+7 916 123-45-67");
  EXPECT_EQ(Count(model::EntityKind::kLead), 1);
  auto lead = store_->Find(model::EntityKind::kLead, "mango-main", "call:79161234567");
  ASSERT_TRUE(lead.ok() && lead->has_value());
  // The form fills in what the call's lead lacked.
  EXPECT_EQ((**lead).entity.fields.value("message", ""), "call me");
  EXPECT_EQ((**lead).entity.fields.value("channel", ""), "phone");
  // A form from the number after the window is a lead of its own.
  clock_.Advance(std::chrono::hours(25));
  Form("4799", "+79161234567");
  EXPECT_EQ(Count(model::EntityKind::kLead), 2);
}

}  // namespace
}  // namespace crmhub::adapters::mango
