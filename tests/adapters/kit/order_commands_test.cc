// The fulfilment commands' shared pieces: the order an item names, and the
// dead letter of a refused status write.

#include "adapters/kit/order_commands.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace crmhub::adapters::kit {
namespace {

using nlohmann::json;

TEST(KitOrderCommands, OrderKeyAndRefusedTransition) {
  EXPECT_EQ(*OrderKey({{"order_id", 12}}), "12");
  EXPECT_EQ(*OrderKey({{"order_id", " 12 "}}), "12");
  EXPECT_EQ(*OrderKey({{"order_id", "12345-0001-1"}}), "12345-0001-1");
  for (const json& bad :
       {json::object(), json{{"order_id", 0}}, json{{"order_id", "-4"}}, json{{"order_id", ""}},
        json{{"order_id", 2.5}}, json{{"order_id", json::array()}}}) {
    EXPECT_FALSE(OrderKey(bad).ok()) << bad.dump();
  }
  EXPECT_NE(OrderKey(json::object()).status().message().find("nothing"), std::string::npos);
  DeliveryOutcome fresh = RefusedTransition("ozon", "ship", "1-2", "CANCELLED", "cancelled");
  EXPECT_EQ(fresh.kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(fresh.error, "ozon: ship order 1-2: refused: CANCELLED; the order is now cancelled");
  DeliveryOutcome unread = RefusedTransition("ozon", "ship", "1-2", "no", "", "HTTP 500");
  EXPECT_EQ(unread.error,
            "ozon: ship order 1-2: refused: no; its status could not be re-read: HTTP 500");
}

}  // namespace
}  // namespace crmhub::adapters::kit
