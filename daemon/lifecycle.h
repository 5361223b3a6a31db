#pragma once
// Process lifecycle: signals become commands for the control thread, and the
// systemd watchdog is pinged from the event loop.
//
//   SIGTERM, SIGINT -> kStop    (stop accepting, drain, exit 0)
//   SIGHUP          -> kReload  (re-read config; keep the old one if invalid)
//
// Signals are caught with boost::asio::signal_set on the io_context (no
// async-signal-unsafe work in a handler); the handler only posts a command.
// The reload and the drain themselves run on the control thread (the one
// that called Runtime::Run), because they block: reading files, building
// adapters, joining workers. I/O threads never block.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "base/thread_annotations.h"
#include "daemon/sd_notify.h"

namespace crmhub::daemon {

enum class ControlCommand { kNone, kReload, kStop };

// A tiny mailbox for the control thread. Stop is sticky and wins over reload;
// reloads requested while one is pending collapse into one.
// Thread-safety: all methods may be called from any thread.
class ControlQueue {
 public:
  void Post(ControlCommand command);
  // Blocks until a command is pending and takes it (kStop stays pending, so
  // every later Wait also returns kStop).
  ControlCommand Wait();
  // As Wait, but returns kNone after `timeout`.
  ControlCommand WaitFor(std::chrono::milliseconds timeout);
  bool stop_requested() const;

 private:
  ControlCommand TakeLocked();
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  bool reload_ GUARDED_BY(mu_) = false;
};

// Turns SIGTERM/SIGINT/SIGHUP into ControlQueue commands. The signals are
// registered in the constructor (so a signal raised right after it is
// caught), and handled on the io_context until Cancel().
// Thread-safety: construct and Cancel from one thread.
class SignalWatcher {
 public:
  SignalWatcher(boost::asio::io_context& io, ControlQueue& control,
                std::function<void(int signo)> on_signal = nullptr);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  // Stops waiting for signals (the handler completes with operation_aborted
  // so the io_context can run out of work).
  void Cancel();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Sends WATCHDOG=1 (plus STATUS=<status()>) every `interval` from a timer on
// the io_context. Because the ping runs on the event loop, a loop that is
// stuck stops pinging and systemd restarts the service.
// Thread-safety: Start/Cancel from one thread; status() is called on an I/O
// thread and must be thread-safe and non-blocking.
// `healthy` (optional): while it answers false the pings are withheld (the
// STATUS still goes), so that systemd restarts a daemon that cannot heal by
// itself (the queue refusing writes for too long).
class WatchdogPinger {
 public:
  WatchdogPinger(boost::asio::io_context& io, const SdNotifier& notifier,
                 std::chrono::milliseconds interval, std::function<std::string()> status,
                 std::function<bool()> healthy = nullptr);
  ~WatchdogPinger();
  WatchdogPinger(const WatchdogPinger&) = delete;
  WatchdogPinger& operator=(const WatchdogPinger&) = delete;

  void Start();
  void Cancel();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Half the systemd watchdog timeout (what sd_watchdog_enabled(3) advises),
// at least 1 ms; nullopt when the watchdog is off.
std::optional<std::chrono::milliseconds> WatchdogPingInterval(const SdNotifier& notifier);

}  // namespace crmhub::daemon
