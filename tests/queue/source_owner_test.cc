// SourceOwnership (queue/kafka/source_owner.h): two daemons' engines in one
// group on librdkafka's mock cluster share the pull sources, each source
// owned by exactly one of them, and when one leaves the other owns every
// source and reads the cursor the first one saved last.

#include "queue/kafka/source_owner.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "queue/kafka/mock_cluster.h"
#include "tests/queue/test_util.h"

namespace crmhub::queue::kafka {
namespace {

using std::chrono::seconds;

TEST(SourceOwnershipTest, ASourceMapsToTheSamePartitionOnEveryDaemon) {
  // FNV-1a of the id: fixed values, so a new build never moves a source.
  EXPECT_EQ(SourceOwnership::PartitionOf("", 7), static_cast<int32_t>(2166136261u % 7));
  EXPECT_EQ(SourceOwnership::PartitionOf("a", 1000), static_cast<int32_t>(0xe40c292cu % 1000));
  for (int32_t n : {1, 4, 12}) {
    int32_t p = SourceOwnership::PartitionOf("wb-main", n);
    EXPECT_GE(p, 0);
    EXPECT_LT(p, n);
  }
}

TEST(SourceOwnershipTest, EachSourceHasOneOwnerAndTheSurvivorResumesFromTheLastCursor) {
  MockKafkaCluster cluster(3);
  ASSERT_FALSE(cluster.bootstraps().empty());
  ASSERT_TRUE(cluster.CreateTopic("own._sources", 4));
  ManualClock clock;
  KafkaQueueOptions options;
  options.brokers = cluster.bootstraps();
  options.topic_prefix = "own";
  options.group_id = "own";
  options.properties = MockKafkaCluster::LowLatencyProperties();
  options.timeout = seconds(20);
  auto qa = KafkaQueue::Open(clock, options);
  auto qb = KafkaQueue::Open(clock, options);
  ASSERT_TRUE(qa.ok() && qb.ok());
  auto a = SourceOwnership::Open(**qa);
  auto b = SourceOwnership::Open(**qb);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ((*a)->partitions(), 4);

  std::vector<std::string> sources;
  for (int i = 0; i < 16; ++i) sources.push_back("src" + std::to_string(i));
  auto settled = [&](bool with_a) {
    for (const auto& s : sources) {
      const bool by_a = with_a && (*a)->Owns(s);
      if (by_a == (*b)->Owns(s)) return false;  // none or both
    }
    return true;
  };
  auto deadline = std::chrono::steady_clock::now() + seconds(20);
  while (!(settled(true) && !(*a)->Owned().empty() && !(*b)->Owned().empty()) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(settled(true)) << "a source with no owner or two";
  ASSERT_FALSE((*a)->Owned().empty());
  ASSERT_FALSE((*b)->Owned().empty()) << "the group gave one daemon every source";

  std::string mine;  // a source a owns
  for (const auto& s : sources) {
    if ((*a)->Owns(s)) mine = s;
  }
  ASSERT_FALSE(mine.empty());
  ASSERT_TRUE((*qa)->PutState("cursor/" + mine, "page-7").ok());
  ASSERT_TRUE((*qa)->PutState("cursor/" + mine, "page-8").ok());
  EXPECT_EQ(*(*qb)->GetState("cursor/" + mine), std::nullopt) << "b read the state before";

  a->reset();  // leaves the group: its partitions go to b
  deadline = std::chrono::steady_clock::now() + seconds(20);
  while (!settled(false) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(settled(false)) << "b did not take every source over";
  EXPECT_EQ((*b)->Owned().size(), 4u);
  EXPECT_EQ(*(*qb)->GetState("cursor/" + mine), std::optional<std::string>("page-8"))
      << "the new owner starts from the last durable cursor";
  EXPECT_GE((*b)->rebalances(), 3) << "assigned, revoked, assigned again";
}

}  // namespace
}  // namespace crmhub::queue::kafka
