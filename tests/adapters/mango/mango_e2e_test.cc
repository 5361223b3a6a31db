// `crmhub run` end to end against the Mango simulator (tests/adapters/
// call_e2e.h): 500 calls, each told as Mango does (legs by seq, recordings,
// the final summary), pushed with duplicates, out of order, retried when not
// answered 200, through one SIGKILL of the daemon: exactly 500 calls in
// crm.db, each answered or missed as the simulator decided.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "adapters/mango/mango_sim.h"
#include "tests/adapters/call_e2e.h"
#include "tests/support/prism.h"

namespace crmhub::adapters::mango {
namespace {

TEST(MangoEndToEndTest, EveryCallOnceWithItsResultThroughDuplicatesReorderingAndAKill) {
  SystemClock clock;
  auto port = crmhub::testing::PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  MangoSimOptions so;
  so.orders = 500;
  so.start = clock.Now() - std::chrono::minutes(10);  // every event due: pushed as fast as taken
  so.faults.dup = 0.2;
  so.extra["target"] = fmt::format("http://127.0.0.1:{}/hooks/mango-main", *port);
  MangoSimulator sim(so, clock);
  testutil::RunCallsKillAndResume(sim,
                                  {.adapter_id = "mango-main",
                                   .mapping = "mango-calls.toml",
                                   .port = static_cast<uint16_t>(*port),
                                   .calls = so.orders,
                                   .missed_at = [](const simkit::SimCall& c) { return c.end; },
                                   .answered_at = [](const simkit::SimCall& c) { return c.end; }});
}

}  // namespace
}  // namespace crmhub::adapters::mango
