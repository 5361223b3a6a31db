#include "daemon/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace crmhub::daemon {
namespace {

std::optional<int64_t> ParseInt(const std::string& text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

SdNotifier SdNotifier::FromEnvironment() {
  return FromEnvironment(
      [](const char* name) -> std::optional<std::string> {
        const char* value = std::getenv(name);  // NOLINT: read once at startup
        if (value == nullptr) return std::nullopt;
        return std::string(value);
      },
      static_cast<int>(::getpid()));
}

SdNotifier SdNotifier::FromEnvironment(const EnvLookup& env, int pid) {
  std::string socket = env("NOTIFY_SOCKET").value_or("");
  // Only '/' (path) and '@' (abstract) names are valid, as in sd_notify(3).
  if (socket.size() < 2 || (socket[0] != '/' && socket[0] != '@')) socket.clear();
  std::optional<std::chrono::microseconds> watchdog;
  if (auto usec = env("WATCHDOG_USEC")) {
    auto value = ParseInt(*usec);
    bool for_us = true;
    if (auto wpid = env("WATCHDOG_PID")) {
      auto parsed = ParseInt(*wpid);
      for_us = parsed && *parsed == pid;
    }
    if (value && *value > 0 && for_us) watchdog = std::chrono::microseconds(*value);
  }
  return SdNotifier(std::move(socket), watchdog);
}

SdNotifier::SdNotifier(std::string socket_name, std::optional<std::chrono::microseconds> watchdog)
    : socket_name_(std::move(socket_name)), watchdog_(watchdog) {}

Status SdNotifier::Notify(std::string_view state) const {
  if (!enabled()) return Status::Ok();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_name_.size() >= sizeof(addr.sun_path)) {
    return Status::InvalidArgument("NOTIFY_SOCKET name too long");
  }
  std::memcpy(addr.sun_path, socket_name_.data(), socket_name_.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_name_.size());
  if (socket_name_[0] == '@') {
    addr.sun_path[0] = '\0';  // abstract namespace: no trailing NUL counted
  } else {
    len += 1;  // include the terminating NUL of a path
  }
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IoError(std::string("socket: ") + std::strerror(errno));
  ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                          reinterpret_cast<const sockaddr*>(&addr), len);
  int err = errno;
  ::close(fd);
  if (sent < 0) {
    return Status::IoError("sd_notify to " + socket_name_ + ": " + std::strerror(err));
  }
  if (static_cast<size_t>(sent) != state.size()) return Status::IoError("sd_notify: short send");
  return Status::Ok();
}

std::string SanitizeStatus(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace crmhub::daemon
