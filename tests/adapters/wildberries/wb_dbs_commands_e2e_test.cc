// DBS status writes end to end (issue 23, "Commands from the CRM": DBS
// confirm, deliver, receive and reject), through the real daemon (`crmhub
// run`, a child process) and the in-process simulator: 100 DBS orders
// pulled; then, with 20% faults, the CRM confirms, ships (confirm + deliver), cancels,
// delivers, and reports received and rejected ones by POST
// /api/v1/commands; the simulator's final states equal the commands,
// crm.db follows them, and nothing was sent twice (each (order, write) WB
// acted on once, from the simulator's request log). Then, faults off, two
// illegal transitions (deliver before confirm; receive a cancelled order)
// end as dead letters with WB's error and the order's fresh status, each
// write sent once.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "adapters/wildberries/wildberries_sim.h"
#include "tests/adapters/commands_e2e.h"
#include "tests/support/client_thread.h"
#include "tests/support/prism.h"

namespace crmhub::adapters::wildberries {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr int kOrders = 100;
int64_t Id(int i) { return 20'000'000 + i; }

// (order id, write) -> how many times WB acted on it (a 2xx that no fault
// replaced; a timeout fault is acted on: its answer was lost).
std::map<std::pair<std::string, std::string>, int> ActedWrites(
    const std::vector<simkit::LoggedRequest>& log) {
  std::map<std::pair<std::string, std::string>, int> out;
  const std::string prefix = "/api/v3/dbs/orders/";
  for (const auto& r : log) {
    if (r.method != "PATCH" || r.path.rfind(prefix, 0) != 0 || r.status >= 300) continue;
    if (r.fault == simkit::Fault::k429 || r.fault == simkit::Fault::k500 ||
        r.fault == simkit::Fault::k503) {
      continue;
    }
    const std::string rest = r.path.substr(prefix.size());
    ++out[{rest.substr(0, rest.find('/')), rest.substr(rest.find('/') + 1)}];
  }
  return out;
}

TEST(WildberriesDbsCommandsEndToEndTest, StatusWritesThroughFaultsAndIllegalOnesDeadLettered) {
  SystemClock clock;
  WildberriesSimOptions so;
  so.orders = 0;
  so.dbs_orders = kOrders + 2;  // the last two for the illegal transitions
  so.seed = 29;
  so.arrival = seconds(2);
  so.await_seller = true;  // the seller (the CRM's commands) moves them
  so.enforce_rate_limits = false;
  // The faults are on while the commands are delivered (the pull through
  // faults is wb_e2e_test's): pulled first, faults off.
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  auto port = crmhub::testing::PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  testutil::MarketplaceE2eOptions options =
      testutil::OptionsFor(sim, "wb-main", "wildberries-orders.toml", R"(
poll_interval = "300ms"
request_timeout = "1s"
lookback = "1h"
products = false
returns = false
dbs_rate_interval = "1ms"
dbs_rate_burst = 100
dbs_status_rate_interval = "1ms"
dbs_status_rate_burst = 100
)" + testutil::CommandsE2eConfig(*port, "100ms", "1s"));
  options.files["admin-token"] = testutil::kCommandsE2eToken;
  testutil::MarketplaceE2e e2e(options);
  e2e.Start();

  auto id_text = [](int i) { return std::to_string(Id(i)); };
  testutil::FinalStatuses started;
  for (int i = 0; i < kOrders + 2; ++i) started[id_text(i)] = "new/waiting";
  ASSERT_TRUE(e2e.WaitUntil([&] { return e2e.AllFinalInStore(started); }, seconds(60)))
      << e2e.Differences(started) << e2e.child().Output();

  sim.SetFaults(testutil::TwentyPercentFaults());
  const uint64_t faults_from = testutil::LogPosition(sim.log());
  crmhub::testing::ClientThread http(seconds(10));
  int posts = 0;
  auto post = [&](const std::string& command, int from, int to,
                  const std::function<json(int)>& item) {
    json items = json::array();
    for (int i = from; i < to; ++i) items.push_back(item(i));
    net::OutboundRequest r;
    r.method = "POST";
    r.url = fmt::format("http://127.0.0.1:{}/api/v1/commands", *port);
    r.headers.Set("Authorization", std::string("Bearer ") + testutil::kCommandsE2eToken);
    r.headers.Set("Content-Type", "application/json");
    r.headers.Set("Idempotency-Key", fmt::format("dbs-e2e-{}", ++posts));
    r.body = json{{"target", "wb-main"}, {"command", command}, {"items", items}}.dump();
    auto answer = http.client().SendBlocking(r);
    ASSERT_TRUE(answer.ok() && answer->status < 300)
        << command << " " << from << ": " << (answer.ok() ? answer->body : "no answer");
  };
  auto set = [&](const char* status) {
    return [status](int i) {
      json item = {{"order_id", Id(i)}, {"status", status}};
      if (std::string_view(status) == "receive" || std::string_view(status) == "reject") {
        item["code"] = WildberriesSimulator::BuyerCode(Id(i));
      }
      return item;
    };
  };
  auto dbs = [](int i) { return json{{"order_id", Id(i)}, {"delivery_type", "dbs"}}; };
  auto sim_at = [&](const testutil::FinalStatuses& want) {
    const auto now = sim.OrderStatuses(false);
    for (const auto& [id, status] : want) {
      if (now.at(id) != status) return false;
    }
    return true;
  };

  // 0..79 confirmed, 80..89 shipped (new -> confirm -> deliver), 90..99
  // cancelled.
  testutil::FinalStatuses want;
  post("set_status", 0, 80, set("confirm"));
  post("ship", 80, 90, dbs);
  post("cancel", 90, 100, dbs);
  for (int i = 0; i < 80; ++i) want[id_text(i)] = "confirm/waiting";
  for (int i = 80; i < 90; ++i) want[id_text(i)] = "deliver/waiting";
  for (int i = 90; i < 100; ++i) want[id_text(i)] = "cancel/canceled";
  ASSERT_TRUE(e2e.WaitUntil([&] { return sim_at(want); }, seconds(60))) << e2e.child().Output();
  // 0..69 delivered; then 0..39 received and 40..59 rejected by the buyer.
  post("set_status", 0, 70, set("deliver"));
  for (int i = 0; i < 70; ++i) want[id_text(i)] = "deliver/waiting";
  ASSERT_TRUE(e2e.WaitUntil([&] { return sim_at(want); }, seconds(60))) << e2e.child().Output();
  post("set_status", 0, 40, set("receive"));
  post("set_status", 40, 60, set("reject"));
  for (int i = 0; i < 40; ++i) want[id_text(i)] = "receive/sold";
  for (int i = 40; i < 60; ++i) want[id_text(i)] = "reject/canceled_by_client";
  ASSERT_TRUE(e2e.WaitUntil([&] { return sim_at(want); }, seconds(60))) << e2e.child().Output();
  // crm.db follows (the pull reads the DBS statuses).
  ASSERT_TRUE(e2e.WaitUntil(
      [&] {
        testutil::FinalStatuses all = want;
        all[id_text(kOrders)] = all[id_text(kOrders + 1)] = "new/waiting";
        return e2e.AllFinalInStore(all);
      },
      seconds(60)))
      << e2e.Differences(want);

  // Nothing sent twice: each write WB acted on once, and only the
  // commanded ones.
  std::map<std::pair<std::string, std::string>, int> expected;
  for (int i = 0; i < 80; ++i) expected[{id_text(i), "confirm"}] = 1;
  for (int i = 80; i < 90; ++i)
    expected[{id_text(i), "confirm"}] = expected[{id_text(i), "deliver"}] = 1;
  for (int i = 90; i < 100; ++i) expected[{id_text(i), "cancel"}] = 1;
  for (int i = 0; i < 70; ++i) expected[{id_text(i), "deliver"}] = 1;
  for (int i = 0; i < 40; ++i) expected[{id_text(i), "receive"}] = 1;
  for (int i = 40; i < 60; ++i) expected[{id_text(i), "reject"}] = 1;
  EXPECT_EQ(ActedWrites(sim.log().Snapshot()), expected);
  // The faults happened while the commands were delivered.
  int faulted = 0;
  for (const auto& r : sim.log().Snapshot()) {
    faulted += r.seq > faults_from && r.fault != simkit::Fault::kNone;
  }
  EXPECT_GE(faulted, 10);

  // Faults off: an illegal transition is WB's 409, read again, dead-lettered.
  sim.SetFaults({});
  post("set_status", kOrders, kOrders + 1, set("deliver"));  // deliver before confirm
  post("set_status", 90, 91, set("receive"));                // receive a cancelled order
  json letters;
  ASSERT_TRUE(e2e.WaitUntil(
      [&] {
        net::OutboundRequest r;
        r.method = "GET";
        r.url = fmt::format("http://127.0.0.1:{}/api/v1/dead-letters?lane=out.wb-main", *port);
        r.headers.Set("Authorization", std::string("Bearer ") + testutil::kCommandsE2eToken);
        auto answer = http.client().SendBlocking(r);
        if (!answer.ok() || answer->status != 200) return false;
        letters = json::parse(answer->body, nullptr, false);
        return letters.is_object() && letters["dead_letters"].size() == 2;
      },
      seconds(30)))
      << letters.dump() << e2e.child().Output();
  std::string reasons;
  for (const json& d : letters["dead_letters"]) reasons += d["reason"].get<std::string>() + "\n";
  EXPECT_NE(reasons.find("set_status deliver order " + id_text(kOrders) + ": refused: "),
            std::string::npos)
      << reasons;
  EXPECT_NE(reasons.find("HTTP 409: Несоответствие статусов"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("the order is now new/waiting"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("set_status receive order " + id_text(90) +
                         ": refused: wildberries: PATCH /api/v3/dbs/orders/" + id_text(90) +
                         "/receive: HTTP 409"),
            std::string::npos)
      << reasons;
  EXPECT_NE(reasons.find("the order is now cancel/canceled"), std::string::npos) << reasons;
  const auto acted = sim.log().Snapshot();
  int illegal = 0;
  std::string sent;  // what WB saw of them, for a failure's message
  for (const auto& r : acted) {
    if (r.path == "/api/v3/dbs/orders/" + id_text(kOrders) + "/deliver" ||
        r.path == "/api/v3/dbs/orders/" + id_text(90) + "/receive") {
      ++illegal;
      sent +=
          fmt::format("#{} at {} ms: {} {} -> {}\n", r.seq, r.at_ms, r.method, r.path, r.status);
    }
  }
  EXPECT_EQ(illegal, 2) << "each illegal write sent once, never retried\n"
                        << sent << e2e.child().Output();
  EXPECT_EQ(sim.OrderStatuses(false).at(id_text(kOrders)), "new/waiting");

  e2e.child().Signal(SIGTERM);
  EXPECT_EQ(e2e.child().Wait(std::chrono::milliseconds(30000)), 0) << e2e.child().Output();
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::wildberries
