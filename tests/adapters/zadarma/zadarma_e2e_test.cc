// `crmhub run` end to end against the Zadarma simulator (tests/adapters/
// call_e2e.h): 500 calls, each told as Zadarma does (NOTIFY_START ...
// NOTIFY_END, outgoing calls, recordings), pushed with duplicates, out of
// order, retried when not answered 200, through one SIGKILL of the daemon:
// exactly 500 calls in crm.db, each answered or missed as the simulator
// decided.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "adapters/zadarma/zadarma_sim.h"
#include "tests/adapters/call_e2e.h"
#include "tests/support/prism.h"

namespace crmhub::adapters::zadarma {
namespace {

TEST(ZadarmaEndToEndTest, EveryCallOnceWithItsResultThroughDuplicatesReorderingAndAKill) {
  SystemClock clock;
  auto port = crmhub::testing::PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  ZadarmaSimOptions so;
  so.orders = 500;
  so.start = clock.Now() - std::chrono::minutes(10);  // every event due: pushed as fast as taken
  so.faults.dup = 0.2;
  so.extra["target"] = fmt::format("http://127.0.0.1:{}/hooks/zadarma", *port);
  ZadarmaSimulator sim(so, clock);
  testutil::RunCallsKillAndResume(
      sim, {.adapter_id = "zadarma",
            .mapping = "zadarma-calls.toml",
            .port = static_cast<uint16_t>(*port),
            .calls = so.orders,
            // NOTIFY_END of a missed call: duration 0.
            .missed_at = [](const simkit::SimCall& c) { return c.start; },
            // An answered one: call_start + duration (talk time).
            .answered_at = [](const simkit::SimCall& c) { return c.start + (c.end - c.answer); }});
}

}  // namespace
}  // namespace crmhub::adapters::zadarma
