#include "daemon/lifecycle.h"

#include <spdlog/spdlog.h>

#include <csignal>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

namespace crmhub::daemon {

void ControlQueue::Post(ControlCommand command) {
  // Notified under the lock: a waiter that takes the command may destroy the
  // queue as soon as it returns, and must not find Post still touching cv_
  // (TSan saw pthread_cond_broadcast race the destructor).
  std::lock_guard lock(mu_);
  if (command == ControlCommand::kStop) stop_ = true;
  if (command == ControlCommand::kReload) reload_ = true;
  cv_.notify_all();
}

ControlCommand ControlQueue::TakeLocked() {
  if (stop_) return ControlCommand::kStop;
  if (reload_) {
    reload_ = false;
    return ControlCommand::kReload;
  }
  return ControlCommand::kNone;
}

ControlCommand ControlQueue::Wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return stop_ || reload_; });
  return TakeLocked();
}

ControlCommand ControlQueue::WaitFor(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return stop_ || reload_; });
  return TakeLocked();
}

bool ControlQueue::stop_requested() const {
  std::lock_guard lock(mu_);
  return stop_;
}

// The signal_set lives on a strand: its handler (which re-arms it) and
// Cancel() may otherwise run on two I/O threads at once, and a cancel that
// ran before the re-arm left a wait that kept the event loop busy until the
// drain deadline (RuntimeTest.WebhookEndsAsLeadInCrmDb, under load).
struct SignalWatcher::State : std::enable_shared_from_this<SignalWatcher::State> {
  State(boost::asio::io_context& io, ControlQueue& c, std::function<void(int)> cb)
      : signals(boost::asio::make_strand(io), SIGTERM, SIGINT, SIGHUP),
        control(c),
        on_signal(std::move(cb)) {}

  void Arm() {
    signals.async_wait([self = shared_from_this()](const boost::system::error_code& ec, int signo) {
      if (ec || self->cancelled) return;
      if (self->on_signal) self->on_signal(signo);
      self->control.Post(signo == SIGHUP ? ControlCommand::kReload : ControlCommand::kStop);
      self->Arm();
    });
  }

  boost::asio::signal_set signals;
  ControlQueue& control;
  std::function<void(int)> on_signal;
  bool cancelled = false;  // touched only on the strand
};

SignalWatcher::SignalWatcher(boost::asio::io_context& io, ControlQueue& control,
                             std::function<void(int)> on_signal)
    : state_(std::make_shared<State>(io, control, std::move(on_signal))) {
  state_->Arm();
}

SignalWatcher::~SignalWatcher() { Cancel(); }

void SignalWatcher::Cancel() {
  // On the signal_set's strand, one at a time with its handler.
  boost::asio::post(state_->signals.get_executor(), [state = state_] {
    state->cancelled = true;
    boost::system::error_code ignored;
    state->signals.cancel(ignored);
    state->signals.clear(ignored);
  });
}

struct WatchdogPinger::State : std::enable_shared_from_this<WatchdogPinger::State> {
  State(boost::asio::io_context& io, const SdNotifier& n, std::chrono::milliseconds i,
        std::function<std::string()> s, std::function<bool()> h)
      : timer(boost::asio::make_strand(io)),
        notifier(n),
        interval(i),
        status(std::move(s)),
        healthy(std::move(h)) {}

  void Ping() {
    if (cancelled) return;
    const bool ok = !healthy || healthy();
    if (!ok && !withholding) {
      spdlog::error(
          "not pinging the systemd watchdog: the daemon cannot heal by itself (see "
          "STATUS); systemd restarts it when WatchdogSec passes");
    }
    withholding = !ok;
    std::string message = ok ? "WATCHDOG=1" : "";
    if (status) {
      if (!message.empty()) message += "\n";
      message += "STATUS=" + SanitizeStatus(status());
    }
    if (!message.empty()) {
      if (Status st = notifier.Notify(message); !st.ok()) {
        spdlog::warn("watchdog ping failed: {}", st.ToString());
      }
    }
    timer.expires_after(interval);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->Ping();
    });
  }

  boost::asio::steady_timer timer;
  SdNotifier notifier;
  std::chrono::milliseconds interval;
  std::function<std::string()> status;
  std::function<bool()> healthy;
  bool withholding = false;  // timer strand only
  // Touched only on the timer's strand, where Ping and Cancel's work run
  // one at a time (the same race as the signal watcher's, see above).
  bool cancelled = false;
};

WatchdogPinger::WatchdogPinger(boost::asio::io_context& io, const SdNotifier& notifier,
                               std::chrono::milliseconds interval,
                               std::function<std::string()> status, std::function<bool()> healthy)
    : state_(
          std::make_shared<State>(io, notifier, interval, std::move(status), std::move(healthy))) {}

WatchdogPinger::~WatchdogPinger() { Cancel(); }

void WatchdogPinger::Start() {
  boost::asio::post(state_->timer.get_executor(), [state = state_] { state->Ping(); });
}

void WatchdogPinger::Cancel() {
  boost::asio::post(state_->timer.get_executor(), [state = state_] {
    state->cancelled = true;
    state->timer.cancel();
  });
}

std::optional<std::chrono::milliseconds> WatchdogPingInterval(const SdNotifier& notifier) {
  auto timeout = notifier.watchdog_timeout();
  if (!timeout) return std::nullopt;
  auto half = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout / 2);
  return half.count() < 1 ? std::chrono::milliseconds(1) : half;
}

}  // namespace crmhub::daemon
