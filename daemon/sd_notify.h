#pragma once
// SdNotifier: the sd_notify(3) protocol without libsystemd.
//
// systemd passes $NOTIFY_SOCKET (a filesystem path, or an abstract socket
// name written with a leading '@') to a Type=notify service; the service
// sends newline-separated "KEY=value" assignments as one datagram each:
// READY=1, RELOADING=1, STOPPING=1, STATUS=..., WATCHDOG=1. With
// WatchdogSec= set, $WATCHDOG_USEC holds the timeout and $WATCHDOG_PID (when
// present) the pid it is meant for; the service must send WATCHDOG=1 more
// often than that (we ping at half the interval).
//
// Outside systemd (no $NOTIFY_SOCKET) every call is a cheap no-op.
//
// Thread-safety: Notify may be called from any thread (one sendto per call).

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace crmhub::daemon {

class SdNotifier {
 public:
  // Reads the environment through `getenv` (tests pass their own lookup).
  using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

  // Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID from the process
  // environment.
  static SdNotifier FromEnvironment();
  static SdNotifier FromEnvironment(const EnvLookup& env, int pid);

  // A disabled notifier (no socket): every Notify is OK and sends nothing.
  SdNotifier() = default;
  SdNotifier(std::string socket_name, std::optional<std::chrono::microseconds> watchdog);

  // True when a notification socket is configured.
  bool enabled() const { return !socket_name_.empty(); }
  // The watchdog timeout systemd expects pings within, if WatchdogSec= is on
  // and meant for this process.
  std::optional<std::chrono::microseconds> watchdog_timeout() const { return watchdog_; }

  // Sends `state` ("READY=1", "STATUS=ok\nWATCHDOG=1") as one datagram.
  // Returns an IoError when the socket cannot be reached; callers log it and
  // go on (systemd notifications are never fatal).
  Status Notify(std::string_view state) const;

 private:
  std::string socket_name_;  // as given: "/run/systemd/notify" or "@name"
  std::optional<std::chrono::microseconds> watchdog_;
};

// Removes characters that would break the key=value protocol from a STATUS
// text (newlines become spaces).
std::string SanitizeStatus(std::string_view text);

}  // namespace crmhub::daemon
