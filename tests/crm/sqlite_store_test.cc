// SqliteCrmStore against a real crm.db in a fresh temp directory.

#include "crm/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "crm/store_schema.h"
#include "tests/crm/crm_test_util.h"

namespace crmhub::crm {
namespace {

using model::EntityKind;
using testing::Contact;
using testing::Event;
using ::testing::HasSubstr;
using testing::Order;

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    SqliteStoreOptions options;
    options.path = dir_.path() / std::string(kCrmDbFileName);
    auto store = SqliteCrmStore::Open(options, clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  // Applies one event; returns its detailed result.
  EventApplyResult ApplyOne(const SinkEvent& ev) {
    auto r = store_->ApplyDetailed({ev});
    EXPECT_EQ(r.size(), 1u);
    return r.at(0);
  }

  int64_t JournalSize() { return store_->JournalSize().value(); }

  std::string StoredStatus(const std::string& id) {
    auto e = store_->Find(EntityKind::kOrder, "ozon", id);
    EXPECT_TRUE(e.ok());
    if (!e.ok() || !e->has_value()) return "<absent>";
    return (**e).entity.fields.at("status").get<std::string>();
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<SqliteCrmStore> store_;
};

TEST_F(SqliteStoreTest, CreatesEntityWithRefsTypedColumnsAndJournal) {
  auto r = ApplyOne(Event("ozon", "k1", {Order("ozon", "P-1", 100, "new", 12345)}, 77));
  ASSERT_TRUE(r.outcome.ok()) << r.outcome.error;
  ASSERT_EQ(r.entities.size(), 1u);
  EXPECT_EQ(r.entities[0].result, UpsertResult::kCreated);

  auto found = store_->Find(EntityKind::kOrder, "ozon", "P-1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((**found).entity.version, 100);
  EXPECT_EQ((**found).entity.fields.at("total"), 12345);
  EXPECT_EQ((**found).created_at, clock_.Now());

  auto any = store_->FindAnyKind("ozon", "P-1");
  ASSERT_TRUE(any.ok());
  ASSERT_EQ(any->size(), 1u);
  EXPECT_EQ((*any)[0].id, r.entities[0].entity_id);

  auto journal = store_->ReadJournal();
  ASSERT_TRUE(journal.ok());
  ASSERT_EQ(journal->size(), 1u);
  EXPECT_EQ((*journal)[0].kind, EntityKind::kOrder);
  EXPECT_FALSE((*journal)[0].before.has_value());
  EXPECT_EQ((*journal)[0].message_id, 77);
  EXPECT_EQ((*journal)[0].idempotency_key, "k1");

  // The typed columns are queryable with plain SQL (what docs/crm-store.md shows).
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / "crm.db").c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT status, amount_minor, currency FROM orders", -1, &st,
                               nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "new");
  EXPECT_EQ(sqlite3_column_int64(st, 1), 12345);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 2)), "RUB");
  sqlite3_finalize(st);
  sqlite3_close(raw);
}

TEST_F(SqliteStoreTest, ReapplyingTheSameEventChangesNothing) {
  SinkEvent ev = Event(
      "ozon", "k1", {Order("ozon", "P-1", 100, "new"), Contact("ozon", "C-1", 5, "+79161234567")});
  ASSERT_TRUE(ApplyOne(ev).outcome.ok());
  ASSERT_EQ(JournalSize(), 2);
  clock_.Advance(std::chrono::minutes(1));

  auto again = ApplyOne(ev);
  EXPECT_TRUE(again.outcome.ok());
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(JournalSize(), 2);
  EXPECT_EQ(store_->AppliedEventCount().value(), 1);
  auto found = store_->Find(EntityKind::kOrder, "ozon", "P-1");
  EXPECT_EQ((**found).updated_at, (**found).created_at);  // not rewritten

  // Same content under another key (a re-pull): unchanged, nothing journalled.
  SinkEvent copy = ev;
  copy.idempotency_key = "k2";
  auto r = ApplyOne(copy);
  ASSERT_TRUE(r.outcome.ok());
  EXPECT_FALSE(r.duplicate);
  ASSERT_EQ(r.entities.size(), 2u);
  EXPECT_EQ(r.entities[0].result, UpsertResult::kUnchanged);
  EXPECT_EQ(r.entities[1].result, UpsertResult::kUnchanged);
  EXPECT_EQ(JournalSize(), 2);

  // And a reopened store still knows the key.
  Reopen();
  EXPECT_TRUE(ApplyOne(ev).duplicate);
}

TEST_F(SqliteStoreTest, OlderVersionNeverOverwritesNewer) {
  ASSERT_TRUE(ApplyOne(Event("ozon", "s3", {Order("ozon", "P-1", 300, "delivered")})).outcome.ok());
  auto older = ApplyOne(Event("ozon", "s2", {Order("ozon", "P-1", 200, "shipped")}));
  ASSERT_TRUE(older.outcome.ok());
  EXPECT_EQ(older.entities.at(0).result, UpsertResult::kStale);
  EXPECT_EQ(StoredStatus("P-1"), "delivered");
  EXPECT_EQ(JournalSize(), 1);

  auto newer = ApplyOne(Event("ozon", "s4", {Order("ozon", "P-1", 400, "returned")}));
  EXPECT_EQ(newer.entities.at(0).result, UpsertResult::kUpdated);
  EXPECT_EQ(StoredStatus("P-1"), "returned");
  auto journal = store_->ReadJournal().value();
  ASSERT_EQ(journal.size(), 2u);
  EXPECT_EQ(journal[1].before_version, 300);
  EXPECT_THAT(journal[1].before.value_or(""), HasSubstr("delivered"));
  EXPECT_THAT(journal[1].after, HasSubstr("returned"));
}

TEST_F(SqliteStoreTest, EqualVersionTieBreakIsOrderIndependent) {
  // "cancelled" > "awaiting" bytewise: whichever arrives first, it wins.
  ASSERT_TRUE(ApplyOne(Event("ozon", "a", {Order("ozon", "A", 5, "awaiting")})).outcome.ok());
  auto r = ApplyOne(Event("ozon", "b", {Order("ozon", "A", 5, "cancelled")}));
  EXPECT_EQ(r.entities.at(0).result, UpsertResult::kUpdated);
  ASSERT_TRUE(ApplyOne(Event("ozon", "c", {Order("ozon", "B", 5, "cancelled")})).outcome.ok());
  r = ApplyOne(Event("ozon", "d", {Order("ozon", "B", 5, "awaiting")}));
  EXPECT_EQ(r.entities.at(0).result, UpsertResult::kStale);
  EXPECT_EQ(StoredStatus("A"), "cancelled");
  EXPECT_EQ(StoredStatus("B"), "cancelled");
}

TEST_F(SqliteStoreTest, OneBadEventFailsAloneInTheBatch) {
  model::Entity bad = Order("ozon", "P-2", 1, "new");
  bad.fields.erase("status");  // required by the model
  std::vector<SinkEvent> batch = {
      Event("ozon", "e1", {Order("ozon", "P-1", 1, "new")}),
      // The first entity is fine; the second is invalid: the whole event rolls back.
      Event("ozon", "e2", {Order("ozon", "P-3", 1, "new"), bad}),
      Event("ozon", "e3", {Order("ozon", "P-4", 1, "new")}),
  };
  auto outcomes = store_->Apply(batch);
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_TRUE(outcomes[0].ok());
  EXPECT_EQ(outcomes[1].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_THAT(outcomes[1].error, HasSubstr("entity 1"));
  EXPECT_THAT(outcomes[1].error, HasSubstr("status"));
  EXPECT_TRUE(outcomes[2].ok());

  EXPECT_EQ(store_->Count(EntityKind::kOrder).value(), 2);
  EXPECT_FALSE(store_->Find(EntityKind::kOrder, "ozon", "P-3")->has_value());
  EXPECT_EQ(JournalSize(), 2);
  EXPECT_EQ(store_->AppliedEventCount().value(), 2);

  // The failed event is not remembered: after a fix it applies.
  batch[1].entities[1] = Order("ozon", "P-2", 1, "new");
  EXPECT_TRUE(store_->Apply({batch[1]}).at(0).ok());
  EXPECT_EQ(store_->Count(EntityKind::kOrder, std::string("ozon")).value(), 4);
}

// SQLite itself refuses the second entity of an event after the first was
// written (here a trigger; in life a constraint or an oversized value). The
// batch runs without savepoints first, so this forces the guarded redo: the
// event fails alone and its first entity is not left behind.
TEST_F(SqliteStoreTest, EventRefusedBySqliteMidWayFailsAloneInTheBatch) {
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / std::string(kCrmDbFileName)).c_str(), &other), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(other,
                   "CREATE TRIGGER refuse_poison BEFORE INSERT ON orders "
                   "WHEN NEW.external_id = 'POISON' BEGIN SELECT RAISE(ABORT, 'poisoned'); END",
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(other);

  std::vector<SinkEvent> batch = {
      Event("ozon", "e1", {Order("ozon", "P-1", 1, "new")}),
      Event("ozon", "e2", {Order("ozon", "P-3", 1, "new"), Order("ozon", "POISON", 1, "new")}),
      Event("ozon", "e3", {Order("ozon", "P-4", 1, "new")}),
  };
  auto r = store_->ApplyDetailed(batch);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_TRUE(r[0].outcome.ok());
  EXPECT_EQ(r[0].entities.size(), 1u);
  EXPECT_EQ(r[1].outcome.kind, DeliveryOutcome::Kind::kFail);
  EXPECT_THAT(r[1].outcome.error, HasSubstr("poisoned"));
  EXPECT_THAT(r[1].outcome.error, HasSubstr("entity 1"));
  EXPECT_TRUE(r[1].entities.empty());
  EXPECT_TRUE(r[2].outcome.ok());

  EXPECT_EQ(store_->Count(EntityKind::kOrder).value(), 2);
  EXPECT_FALSE(store_->Find(EntityKind::kOrder, "ozon", "P-3")->has_value());
  EXPECT_EQ(JournalSize(), 2);
  EXPECT_EQ(store_->AppliedEventCount().value(), 2);
}

TEST_F(SqliteStoreTest, LockedDatabaseAnswersRetryForTheWholeBatch) {
  store_.reset();
  SqliteStoreOptions options;
  options.path = dir_.path() / "crm.db";
  options.busy_timeout_ms = 20;
  store_ = SqliteCrmStore::Open(options, clock_).value();

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(options.path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  std::vector<SinkEvent> batch = {Event("ozon", "e1", {Order("ozon", "P-1", 1, "new")}),
                                  Event("ozon", "e2", {Order("ozon", "P-2", 1, "new")})};
  auto outcomes = store_->Apply(batch);
  ASSERT_EQ(outcomes.size(), 2u);
  for (const auto& o : outcomes) {
    EXPECT_EQ(o.kind, DeliveryOutcome::Kind::kRetry);
    EXPECT_THAT(o.error, HasSubstr("Unavailable"));
  }

  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  outcomes = store_->Apply(batch);
  EXPECT_TRUE(outcomes[0].ok() && outcomes[1].ok());
  EXPECT_EQ(store_->Count(EntityKind::kOrder).value(), 2);
}

TEST_F(SqliteStoreTest, DuplicateKeyWithinOneBatchAppliesOnce) {
  SinkEvent ev = Event("ozon", "k", {Order("ozon", "P-1", 1, "new")});
  auto r = store_->ApplyDetailed({ev, ev});
  EXPECT_FALSE(r[0].duplicate);
  EXPECT_TRUE(r[1].duplicate);
  EXPECT_EQ(JournalSize(), 1);
  // Keys are scoped by source.
  SinkEvent other = Event("wb", "k", {Order("wb", "P-1", 1, "new")});
  EXPECT_FALSE(ApplyOne(other).duplicate);
  EXPECT_EQ(store_->Count(EntityKind::kOrder).value(), 2);
}

TEST_F(SqliteStoreTest, CountsAndPrune) {
  ASSERT_TRUE(
      store_
          ->Apply({Event("ozon", "1",
                         {Order("ozon", "A", 1, "new"), Contact("ozon", "C", 1, "+79161234567")}),
                   Event("wb", "2", {Order("wb", "B", 1, "new")})})
          .at(0)
          .ok());
  auto counts = store_->CountByKindAndSource().value();
  ASSERT_EQ(counts.size(), 3u);
  EXPECT_EQ(counts[0].kind, EntityKind::kContact);
  EXPECT_EQ(counts[1].source, "ozon");
  EXPECT_EQ(counts[2].source, "wb");
  EXPECT_EQ(store_->AllEntities().value().size(), 3u);

  clock_.Advance(std::chrono::hours(48));
  EXPECT_EQ(store_->PruneAppliedEvents(clock_.Now() - std::chrono::hours(24)).value(), 2);
  EXPECT_EQ(store_->AppliedEventCount().value(), 0);
}

TEST(SqliteStoreMaintainTest, ForgetsAppliedEventsPastTheRetentionInBoundedSteps) {
  testing::TempDir dir;
  ManualClock clock;
  SqliteStoreOptions options;
  options.path = dir.path() / std::string(kCrmDbFileName);
  options.applied_events_retention = std::chrono::hours(24);
  options.maintain_prune_limit = 2;
  auto store = SqliteCrmStore::Open(options, clock).value();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store
                    ->Apply({Event("ozon", "old-" + std::to_string(i),
                                   {Order("ozon", "O" + std::to_string(i), 1, "new")})})
                    .at(0)
                    .ok());
  }
  clock.Advance(std::chrono::hours(20));
  ASSERT_TRUE(store->Apply({Event("ozon", "recent", {Order("ozon", "R", 1, "new")})}).at(0).ok());
  clock.Advance(std::chrono::hours(5));  // the first three are 25 h old, "recent" 5 h

  ASSERT_TRUE(store->Maintain().ok());
  EXPECT_EQ(store->AppliedEventCount().value(), 2) << "at most maintain_prune_limit per call";
  ASSERT_TRUE(store->Maintain().ok());
  EXPECT_EQ(store->AppliedEventCount().value(), 1);
  ASSERT_TRUE(store->Maintain().ok());
  EXPECT_EQ(store->AppliedEventCount().value(), 1) << "the recent record is kept";
  // Entities are not touched, and a re-delivery of a forgotten event changes nothing.
  EXPECT_EQ(store->Count(EntityKind::kOrder).value(), 4);
  auto again = store->ApplyDetailed({Event("ozon", "old-0", {Order("ozon", "O0", 1, "new")})});
  ASSERT_TRUE(again.at(0).outcome.ok());
  EXPECT_EQ(store->Count(EntityKind::kOrder).value(), 4);
}

// A second process (the CLI, a test) opens the store while the daemon holds
// its write lock: an existing schema needs no write, so the open does not
// wait for the lock (it used to take BEGIN IMMEDIATE and fail with "database
// is locked" beside a busy daemon). A missing table still gets created once
// the lock is free.
TEST(SqliteStoreOpenTest, OpensBesideAWriterWhenTheSchemaExists) {
  testing::TempDir dir;
  ManualClock clock;
  SqliteStoreOptions options;
  options.path = dir.path() / "crm.db";
  options.busy_timeout_ms = 20;
  ASSERT_TRUE(SqliteCrmStore::Open(options, clock).ok());  // creates the schema

  sqlite3* writer = nullptr;
  ASSERT_EQ(sqlite3_open(options.path.c_str(), &writer), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(writer, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto beside = SqliteCrmStore::Open(options, clock);
  ASSERT_TRUE(beside.ok()) << beside.status().ToString();
  EXPECT_EQ((*beside)->Count(EntityKind::kOrder).value(), 0);
  beside->reset();

  // A table missing (an older file): the open must write, so with the
  // writer holding the lock it fails, and succeeds once the lock is free.
  ASSERT_EQ(sqlite3_exec(writer, "DROP TABLE journal; COMMIT", nullptr, nullptr, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(writer, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_FALSE(SqliteCrmStore::Open(options, clock).ok());
  ASSERT_EQ(sqlite3_exec(writer, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(writer);
  auto reopened = SqliteCrmStore::Open(options, clock);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
}

TEST(SqliteStoreOpenTest, RefusesANewerSchema) {
  testing::TempDir dir;
  ManualClock clock;
  auto path = dir.path() / "crm.db";
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  auto store = SqliteCrmStore::Open({.path = path}, clock);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("newer"));
}

}  // namespace
}  // namespace crmhub::crm

namespace crmhub::crm {
namespace {

// model::Entity::update_only: nothing is created; over a stored entity the
// fields are merged and the version decides as for a whole record.
TEST_F(SqliteStoreTest, UpdateOnlyChangesWhatIsStoredAndCreatesNothing) {
  model::Entity close = Order("ozon", "P-1", 200, "delivered");
  close.fields = {{"status", "delivered"}};
  close.update_only = true;
  auto none = ApplyOne(Event("ozon", "k1", {close}));
  ASSERT_TRUE(none.outcome.ok()) << none.outcome.error;
  EXPECT_EQ(none.entities.at(0).result, UpsertResult::kUnchanged);
  EXPECT_EQ(StoredStatus("P-1"), "<absent>");
  EXPECT_EQ(JournalSize(), 0);

  // It was kept: the entity, when it comes, gets it (arrival order does not
  // matter), and the record applied again changes nothing.
  ASSERT_TRUE(
      ApplyOne(Event("ozon", "k2", {Order("ozon", "P-1", 100, "new", 12345)})).outcome.ok());
  EXPECT_EQ(StoredStatus("P-1"), "delivered");
  auto merged = ApplyOne(Event("ozon", "k3", {close}));
  ASSERT_TRUE(merged.outcome.ok()) << merged.outcome.error;
  EXPECT_EQ(merged.entities.at(0).result, UpsertResult::kUnchanged);
  // Over a stored entity: merged at once.
  ASSERT_TRUE(ApplyOne(Event("ozon", "k5", {Order("ozon", "P-2", 100, "new", 500)})).outcome.ok());
  close.external_id = "P-2";
  EXPECT_EQ(ApplyOne(Event("ozon", "k6", {close})).entities.at(0).result, UpsertResult::kUpdated);
  EXPECT_EQ(StoredStatus("P-2"), "delivered");
  // An update-only record older than the entity that comes later is stale.
  close.external_id = "P-3";
  close.version = 50;
  ASSERT_TRUE(ApplyOne(Event("ozon", "k7", {close})).outcome.ok());
  ASSERT_TRUE(ApplyOne(Event("ozon", "k8", {Order("ozon", "P-3", 100, "new", 500)})).outcome.ok());
  EXPECT_EQ(StoredStatus("P-3"), "new");
  close.external_id = "P-1";
  close.version = 200;
  auto found = store_->Find(EntityKind::kOrder, "ozon", "P-1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((**found).entity.fields.value("status", ""), "delivered");
  EXPECT_EQ((**found).entity.fields.value("total", 0), 12345);  // kept
  EXPECT_EQ((**found).entity.version, 200);
  // An older update-only record is stale.
  close.version = 150;
  close.fields = {{"status", "new"}};
  EXPECT_EQ(ApplyOne(Event("ozon", "k4", {close})).entities.at(0).result, UpsertResult::kStale);
  EXPECT_EQ(StoredStatus("P-1"), "delivered");
}

model::Entity NoPhone(model::Entity contact) {
  contact.fields.erase("phone");
  return contact;
}

model::Entity Lead(std::string source, std::string external_id, std::string contact,
                   nlohmann::json extra_fields = nlohmann::json::object()) {
  model::Entity e;
  e.kind = model::EntityKind::kLead;
  e.source = std::move(source);
  e.external_id = std::move(external_id);
  e.version = 1;
  e.fields = {{"status", "new"}, {"contact_external_id", std::move(contact)}};
  e.fields.update(extra_fields);
  return e;
}

// The merge's lookup reads contacts of the phone by their index and leads
// by leads_contact, never a table or a source's leads in full: with a scan,
// each lead of a busy source read all the others (a thousand forms from one
// phone took half a minute to store).
TEST_F(SqliteStoreTest, TheLeadMergeLookupGoesThroughIndexes) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir_.path() / std::string(kCrmDbFileName)).c_str(), &db,
                            SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  sqlite3_stmt* plan = nullptr;
  const std::string sql = "EXPLAIN QUERY PLAN " + std::string(kLeadByPhoneSql);
  ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &plan, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  std::vector<std::string> steps;
  while (sqlite3_step(plan) == SQLITE_ROW) {
    steps.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(plan, 3)));
  }
  sqlite3_finalize(plan);
  sqlite3_close(db);
  EXPECT_THAT(steps,
              ::testing::Contains(::testing::HasSubstr("SEARCH c USING INDEX contacts_phone")));
  EXPECT_THAT(steps,
              ::testing::Contains(::testing::HasSubstr("SEARCH l USING INDEX leads_contact")));
  for (const std::string& step : steps)
    EXPECT_THAT(step, ::testing::Not(::testing::StartsWith("SCAN")));
}

// SqliteStoreOptions::lead_merge_window: a lead joins another source's
// lead whose contact has its phone, within the window; never its own
// source's, never without a phone.
TEST_F(SqliteStoreTest, LeadMergeWindowJoinsLeadsOfOnePhoneAcrossSources) {
  store_.reset();
  SqliteStoreOptions options;
  options.path = dir_.path() / std::string(kCrmDbFileName);
  options.lead_merge_window = std::chrono::hours(1);
  store_ = SqliteCrmStore::Open(options, clock_).value();
  auto leads = [&] { return store_->Count(EntityKind::kLead).value(); };

  ASSERT_TRUE(ApplyOne(Event("site", "f1",
                             {Contact("site", "site-1", 1, "+79161234567"),
                              Lead("site", "site-1", "site-1", {{"message", "hi"}})}))
                  .outcome.ok());
  // The same source: two submissions, two leads.
  ASSERT_TRUE(ApplyOne(Event("site", "f2",
                             {Contact("site", "site-2", 1, "+79161234567"),
                              Lead("site", "site-2", "site-2")}))
                  .outcome.ok());
  EXPECT_EQ(leads(), 2);
  // Another source, the same phone: joins the newest, fills its gaps only.
  clock_.Advance(std::chrono::minutes(30));
  auto joined = ApplyOne(Event("mango", "c1",
                               {Contact("mango", "79161234567", 0, "+79161234567"),
                                Lead("mango", "call:79161234567", "79161234567",
                                     {{"channel", "phone"}, {"message", "from the call"}})}));
  ASSERT_TRUE(joined.outcome.ok()) << joined.outcome.error;
  EXPECT_EQ(leads(), 2);
  auto site2 = store_->Find(EntityKind::kLead, "site", "site-2");
  ASSERT_TRUE(site2.ok() && site2->has_value());
  EXPECT_EQ(joined.entities.at(1).entity_id, (**site2).id);
  EXPECT_EQ((**site2).entity.fields.value("channel", ""), "phone");
  EXPECT_EQ((**site2).entity.fields.value("contact_external_id", ""), "site-2");  // kept
  EXPECT_EQ((**site2).entity.fields.value("message", ""), "from the call");
  // A later record of the reference changes nothing and makes no lead.
  EXPECT_EQ(
      ApplyOne(Event("mango", "c2",
                     {Lead("mango", "call:79161234567", "79161234567", {{"title", "another"}})}))
          .entities.at(0)
          .result,
      UpsertResult::kUnchanged);
  EXPECT_EQ(leads(), 2);
  // A contact without a phone, or after the window: a lead of its own.
  ASSERT_TRUE(ApplyOne(Event("mango", "c3",
                             {NoPhone(Contact("mango", "sip", 0, "+79161234567")),
                              Lead("mango", "call:sip", "sip")}))
                  .outcome.ok());
  EXPECT_EQ(leads(), 3);
  clock_.Advance(std::chrono::minutes(61));
  ASSERT_TRUE(ApplyOne(Event("zadarma", "z1",
                             {Contact("zadarma", "79161234567", 0, "+79161234567"),
                              Lead("zadarma", "call:79161234567", "79161234567")}))
                  .outcome.ok());
  EXPECT_EQ(leads(), 4);
}

}  // namespace
}  // namespace crmhub::crm
