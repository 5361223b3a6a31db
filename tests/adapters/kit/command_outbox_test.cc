// kit::CommandOutbox: what payment commands learned, handed to the pull in
// push order and only once, from any number of delivery workers.

#include "adapters/kit/command_outbox.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace crmhub::adapters::kit {
namespace {

InboundEvent Record(const std::string& key) {
  InboundEvent e;
  e.kind = "payment";
  e.idempotency_key = key;
  e.payload = "{}";
  return e;
}

TEST(CommandOutboxTest, TakeHandsOverInPushOrderOnce) {
  CommandOutbox box;
  EXPECT_TRUE(box.Take().empty());
  box.Push(Record("a"));
  box.Push(Record("b"));
  std::vector<InboundEvent> taken = box.Take();
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0].idempotency_key, "a");
  EXPECT_EQ(taken[1].idempotency_key, "b");
  EXPECT_TRUE(box.Take().empty());
  box.Push(Record("c"));
  ASSERT_EQ(box.Take().size(), 1u);
}

TEST(CommandOutboxTest, ConcurrentPushesAreAllTakenOnce) {
  CommandOutbox box;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&box, w] {
      for (int i = 0; i < 250; ++i) box.Push(Record(std::to_string(w * 1000 + i)));
    });
  }
  std::set<std::string> keys;
  size_t taken = 0;
  auto drain = [&] {
    for (const InboundEvent& e : box.Take()) {
      keys.insert(e.idempotency_key);
      ++taken;
    }
  };
  for (int i = 0; i < 100; ++i) drain();  // while the workers push
  for (std::thread& t : workers) t.join();
  drain();
  EXPECT_EQ(taken, 1000u);
  EXPECT_EQ(keys.size(), 1000u);
}

}  // namespace
}  // namespace crmhub::adapters::kit
