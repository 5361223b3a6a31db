// Lifecycle pieces with real signals, a real io_context and a real notify
// socket: signals become control commands, the watchdog pings from the
// event loop, lane wakeups end waits early.

#include "daemon/lifecycle.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <future>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "daemon/lane_wakeup.h"
#include "tests/daemon/test_support.h"

namespace crmhub::daemon {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// An io_context running on one thread for the test's duration.
class LoopThread {
 public:
  LoopThread() : work_(boost::asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~LoopThread() {
    work_.reset();
    io_.stop();  // test teardown only; the daemon never stops its loop this way
    thread_.join();
  }
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

TEST(ControlQueueTest, ReloadsCollapseAndStopIsSticky) {
  ControlQueue control;
  EXPECT_EQ(control.WaitFor(milliseconds(0)), ControlCommand::kNone);
  control.Post(ControlCommand::kReload);
  control.Post(ControlCommand::kReload);
  EXPECT_EQ(control.WaitFor(seconds(5)), ControlCommand::kReload);
  EXPECT_EQ(control.WaitFor(milliseconds(0)), ControlCommand::kNone);
  control.Post(ControlCommand::kReload);
  control.Post(ControlCommand::kStop);
  EXPECT_EQ(control.Wait(), ControlCommand::kStop);  // stop wins over a pending reload
  EXPECT_EQ(control.Wait(), ControlCommand::kStop);  // and stays
  EXPECT_TRUE(control.stop_requested());
}

TEST(ControlQueueTest, WaitWakesOnPostFromAnotherThread) {
  ControlQueue control;
  std::thread poster([&] { control.Post(ControlCommand::kStop); });
  EXPECT_EQ(control.WaitFor(seconds(30)), ControlCommand::kStop);
  poster.join();
}

TEST(SignalWatcherTest, RealSignalsBecomeCommands) {
  LoopThread loop;
  ControlQueue control;
  std::atomic<int> last_signal{0};
  SignalWatcher watcher(loop.io(), control, [&](int signo) { last_signal = signo; });
  ASSERT_EQ(::kill(::getpid(), SIGHUP), 0);
  EXPECT_EQ(control.WaitFor(seconds(30)), ControlCommand::kReload);
  EXPECT_EQ(last_signal.load(), SIGHUP);
  // Still armed after the first signal.
  ASSERT_EQ(::kill(::getpid(), SIGHUP), 0);
  EXPECT_EQ(control.WaitFor(seconds(30)), ControlCommand::kReload);
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  EXPECT_EQ(control.WaitFor(seconds(30)), ControlCommand::kStop);
  EXPECT_EQ(last_signal.load(), SIGTERM);
}

TEST(SignalWatcherTest, SigintStops) {
  LoopThread loop;
  ControlQueue control;
  SignalWatcher watcher(loop.io(), control);
  ASSERT_EQ(::kill(::getpid(), SIGINT), 0);
  EXPECT_EQ(control.WaitFor(seconds(30)), ControlCommand::kStop);
}

TEST(WatchdogPingerTest, PingsFromTheLoopWithStatus) {
  testutil::TempDir dir;
  testutil::NotifySocket socket((dir.path() / "notify").string());
  SdNotifier notifier(socket.name(), std::chrono::microseconds(20'000));
  auto interval = WatchdogPingInterval(notifier);
  ASSERT_TRUE(interval.has_value());
  EXPECT_EQ(*interval, milliseconds(10));
  LoopThread loop;
  std::atomic<int> calls{0};
  WatchdogPinger pinger(loop.io(), notifier, *interval,
                        [&] { return "queue depth " + std::to_string(++calls) + "\nsecond line"; });
  pinger.Start();
  EXPECT_EQ(socket.Receive(seconds(30)), "WATCHDOG=1\nSTATUS=queue depth 1 second line");
  EXPECT_EQ(socket.Receive(seconds(30)), "WATCHDOG=1\nSTATUS=queue depth 2 second line");
  pinger.Cancel();
}

// A daemon that cannot heal by itself (the queue refusing writes too long)
// withholds its pings, so systemd restarts it; the STATUS still goes.
TEST(WatchdogPingerTest, PingsAreWithheldWhileUnhealthy) {
  testutil::TempDir dir;
  testutil::NotifySocket socket((dir.path() / "notify").string());
  SdNotifier notifier(socket.name(), std::chrono::microseconds(20'000));
  LoopThread loop;
  std::atomic<bool> healthy{true};
  WatchdogPinger pinger(
      loop.io(), notifier, milliseconds(10), [] { return "s"; }, [&] { return healthy.load(); });
  pinger.Start();
  EXPECT_EQ(socket.Receive(seconds(30)), "WATCHDOG=1\nSTATUS=s");
  healthy = false;
  // Whatever was in flight, the pings stop: only STATUS comes.
  std::string got;
  for (int i = 0; i < 5 && got != "STATUS=s"; ++i) got = socket.Receive(seconds(30));
  EXPECT_EQ(got, "STATUS=s");
  EXPECT_EQ(socket.Receive(seconds(30)), "STATUS=s");
  healthy = true;
  for (int i = 0; i < 5 && got != "WATCHDOG=1\nSTATUS=s"; ++i) got = socket.Receive(seconds(30));
  EXPECT_EQ(got, "WATCHDOG=1\nSTATUS=s");
  pinger.Cancel();
}

TEST(WatchdogPingerTest, NoWatchdogWithoutUsec) {
  SdNotifier notifier("@whatever", std::nullopt);
  EXPECT_FALSE(WatchdogPingInterval(notifier).has_value());
  SdNotifier tiny("@whatever", std::chrono::microseconds(1));
  EXPECT_EQ(*WatchdogPingInterval(tiny), milliseconds(1));
}

// The lane waits run on the injected clock: a ManualClock that never moves
// means a wait ends only by a notification, and a timeout is the clock
// passing the deadline, with no real time spent.
TEST(LaneWakeupTest, NotifyEndsAWaitEarly) {
  ManualClock clock;
  LaneWakeup wakeup(clock);
  auto ticket = wakeup.Current("in.site");
  std::future<bool> woken =
      std::async(std::launch::async, [&] { return wakeup.Wait("in.site", ticket, seconds(30)); });
  ASSERT_TRUE(clock.AwaitWaiting(1));
  wakeup.Notify("in.site");
  EXPECT_TRUE(woken.get());
}

TEST(LaneWakeupTest, NotifyBeforeWaitIsNotLost) {
  ManualClock clock;
  LaneWakeup wakeup(clock);
  auto ticket = wakeup.Current("in.site");
  wakeup.Notify("in.site");
  EXPECT_TRUE(wakeup.Wait("in.site", ticket, seconds(30)));
  wakeup.NotifyAll();
  EXPECT_TRUE(wakeup.Wait("in.site", ticket, seconds(30)));
}

// Another lane's notification wakes the waiter (one condition variable),
// which goes back to waiting; the wait then times out when the clock passes
// its deadline.
TEST(LaneWakeupTest, AnotherLanesNotifyDoesNotEndTheWait) {
  ManualClock clock;
  LaneWakeup wakeup(clock);
  auto ticket = wakeup.Current("in.site");
  std::future<bool> woken = std::async(
      std::launch::async, [&] { return wakeup.Wait("in.site", ticket, std::chrono::minutes(5)); });
  ASSERT_TRUE(clock.AwaitWaiting(1));
  wakeup.Notify("out.ozon");
  clock.Advance(std::chrono::minutes(4));
  ASSERT_TRUE(clock.AwaitWaiting(1));
  EXPECT_EQ(woken.wait_for(seconds(0)), std::future_status::timeout);
  clock.Advance(std::chrono::minutes(1));
  EXPECT_FALSE(woken.get());
}

}  // namespace
}  // namespace crmhub::daemon
