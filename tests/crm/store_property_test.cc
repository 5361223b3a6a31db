// Property-style test of the store's convergence (issue 5, acceptance 2):
// a seeded random set of events, applied with duplicates and in shuffled
// order in random batches, ends in the same state as applying each distinct
// event once in order; the journal holds exactly one entry per real change
// and each entity's journal is a consistent chain ending in its state.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

#include "crm/sqlite_store.h"
#include "tests/crm/crm_test_util.h"

namespace crmhub::crm {
namespace {

using testing::Contact;
using testing::Event;
using testing::Order;

constexpr const char* kStatuses[] = {"new", "awaiting", "shipped", "delivered", "cancelled"};

std::vector<SinkEvent> RandomEvents(std::mt19937& rng, int count) {
  std::uniform_int_distribution<int> entity_id(0, 5);
  std::uniform_int_distribution<int> version(1, 6);  // small range: equal versions happen
  std::uniform_int_distribution<int> status(0, 4);
  std::uniform_int_distribution<int> per_event(1, 3);
  std::uniform_int_distribution<int> coin(0, 3);
  std::vector<SinkEvent> events;
  for (int i = 0; i < count; ++i) {
    std::vector<model::Entity> entities;
    int n = per_event(rng);
    for (int j = 0; j < n; ++j) {
      std::string source = coin(rng) == 0 ? "wb" : "ozon";
      std::string id = "E" + std::to_string(entity_id(rng));
      if (coin(rng) == 0) {
        entities.push_back(
            Contact(source, id, version(rng), "+7916000000" + std::to_string(status(rng))));
      } else {
        entities.push_back(
            Order(source, id, version(rng), kStatuses[status(rng)], 100 * (1 + status(rng))));
      }
    }
    events.push_back(
        Event(i % 2 ? "ozon" : "wb", "ev-" + std::to_string(i), std::move(entities), i + 1));
  }
  return events;
}

using StateKey = std::tuple<int, std::string, std::string>;
struct StateValue {
  int64_t version;
  std::string fields;
  bool operator==(const StateValue&) const = default;
};

std::map<StateKey, StateValue> StateOf(SqliteCrmStore& store) {
  std::map<StateKey, StateValue> out;
  const auto all = store.AllEntities().value();  // a named copy: value() of a temporary dangles
  for (const StoredEntity& s : all) {
    out[{static_cast<int>(s.entity.kind), s.entity.source, s.entity.external_id}] = {
        s.entity.version, s.entity.fields.dump()};
  }
  return out;
}

// Checks the journal: per entity, entries chain (before == previous after)
// and the last after is the stored state. Returns the number of entries.
int64_t CheckJournal(SqliteCrmStore& store) {
  std::map<std::pair<int, int64_t>, JournalEntry> last;
  int64_t n = 0;
  const auto journal = store.ReadJournal(0, 1'000'000).value();
  for (const JournalEntry& j : journal) {
    ++n;
    auto key = std::make_pair(static_cast<int>(j.kind), j.entity_id);
    auto it = last.find(key);
    if (it == last.end()) {
      EXPECT_FALSE(j.before.has_value()) << "first entry of an entity must be its creation";
    } else {
      EXPECT_EQ(j.before.value_or("<none>"), it->second.after);
      EXPECT_EQ(j.before_version.value_or(-1), it->second.version);
      EXPECT_TRUE(j.version > it->second.version ||
                  (j.version == it->second.version && j.after > it->second.after))
          << "a journalled change must move forward";
    }
    last[key] = j;
  }
  const auto all = store.AllEntities().value();
  for (const StoredEntity& s : all) {
    auto it = last.find({static_cast<int>(s.entity.kind), s.id});
    EXPECT_NE(it, last.end());
    if (it == last.end()) continue;
    EXPECT_EQ(it->second.after, s.entity.fields.dump());
    EXPECT_EQ(it->second.version, s.entity.version);
  }
  return n;
}

int64_t RealChanges(const std::vector<EventApplyResult>& results) {
  int64_t n = 0;
  for (const auto& r : results) {
    EXPECT_TRUE(r.outcome.ok()) << r.outcome.error;
    for (const auto& e : r.entities) {
      n += (e.result == UpsertResult::kCreated || e.result == UpsertResult::kUpdated);
    }
  }
  return n;
}

class StorePropertyTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(StorePropertyTest, ShuffledDuplicatedDeliveryConvergesToInOrderState) {
  std::mt19937 rng(GetParam());
  const std::vector<SinkEvent> events = RandomEvents(rng, 40);
  ManualClock clock;
  testing::TempDir dir;

  // Reference: every distinct event once, in order, one per batch.
  auto reference = SqliteCrmStore::Open({.path = dir.path() / "ref.db"}, clock).value();
  int64_t reference_changes = 0;
  for (const SinkEvent& ev : events)
    reference_changes += RealChanges(reference->ApplyDetailed({ev}));
  EXPECT_EQ(CheckJournal(*reference), reference_changes);

  // Under test: each event 1..3 times, shuffled, in random batch sizes.
  std::vector<SinkEvent> deliveries;
  std::uniform_int_distribution<int> copies(1, 3);
  for (const SinkEvent& ev : events) {
    for (int c = copies(rng); c > 0; --c) deliveries.push_back(ev);
  }
  std::shuffle(deliveries.begin(), deliveries.end(), rng);
  auto store = SqliteCrmStore::Open({.path = dir.path() / "crm.db"}, clock).value();
  int64_t changes = 0;
  int64_t duplicates = 0;
  std::uniform_int_distribution<size_t> batch_size(1, 12);
  for (size_t i = 0; i < deliveries.size();) {
    size_t n = std::min(batch_size(rng), deliveries.size() - i);
    std::vector<SinkEvent> batch(deliveries.begin() + i, deliveries.begin() + i + n);
    auto results = store->ApplyDetailed(batch);
    for (const auto& r : results) duplicates += r.duplicate;
    changes += RealChanges(results);
    clock.Advance(std::chrono::seconds(1));
    i += n;
  }

  EXPECT_EQ(StateOf(*store), StateOf(*reference));
  EXPECT_EQ(CheckJournal(*store), changes);  // one entry per real change, none for repeats
  EXPECT_EQ(duplicates, static_cast<int64_t>(deliveries.size() - events.size()));
  EXPECT_EQ(store->AppliedEventCount().value(), static_cast<int64_t>(events.size()));

  // Replaying the whole thing once more changes nothing at all.
  const int64_t journal_before = store->JournalSize().value();
  const auto replayed = store->ApplyDetailed(deliveries);
  for (const auto& r : replayed) EXPECT_TRUE(r.duplicate);
  EXPECT_EQ(store->JournalSize().value(), journal_before);
}

INSTANTIATE_TEST_SUITE_P(Seeds, StorePropertyTest, ::testing::Values(1u, 2u, 3u, 7u, 42u, 1234u));

}  // namespace
}  // namespace crmhub::crm
