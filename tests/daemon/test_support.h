#pragma once
// Helpers for daemon tests that use real processes and sockets: temp dirs,
// a notify socket standing in for systemd, child processes with captured
// output, and a minimal blocking HTTP/1.1 client (Connection: close).
//
// Waiting is always on an event (a datagram, a process exit, a socket
// answer) with a generous deadline, never a sleep.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace crmhub::testutil {

// A fresh directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A bound AF_UNIX datagram socket: what systemd listens on. `name` is a
// path, or "@name" for the abstract namespace.
class NotifySocket {
 public:
  explicit NotifySocket(std::string name);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  const std::string& name() const { return name_; }
  // Next datagram, or "" after `timeout`.
  std::string Receive(std::chrono::milliseconds timeout);
  // Receives until a datagram containing `needle` arrives; returns it, or ""
  // after `timeout`. Every datagram seen is appended to `seen` if given.
  std::string ReceiveUntil(const std::string& needle, std::chrono::milliseconds timeout,
                           std::vector<std::string>* seen = nullptr);

 private:
  std::string name_;
  int fd_ = -1;
};

// The `crmhub` binary under test ($CRMHUB_BINARY, else the build's path).
std::string CrmhubBinary();
// Absolute path of `name` on $PATH (plus /usr/bin, /bin), or "".
std::string FindProgram(const std::string& name);

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr interleaved
};
// Runs to completion (60 s deadline) and captures the output.
RunResult RunAndCapture(const std::vector<std::string>& argv);

// A child process whose stdout+stderr go to a file.
class ChildProcess {
 public:
  // `env` is added to (and overrides) the current environment.
  ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
               std::filesystem::path output_file);
  ~ChildProcess();  // SIGKILLs and reaps if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int signo);
  // Exit code (128+signal when killed), or nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  std::string Output() const;

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::optional<int> exit_code_;
  std::filesystem::path output_file_;
};

struct HttpAnswer {
  int status = 0;  // 0: no answer (connection failed)
  std::string body;
};
// One blocking request to 127.0.0.1:port.
HttpAnswer HttpRequest(uint16_t port, const std::string& method, const std::string& target,
                       const std::string& body = "",
                       const std::map<std::string, std::string>& headers = {});

// Writes `text` to `path`.
void WriteFile(const std::filesystem::path& path, const std::string& text);
std::string ReadFile(const std::filesystem::path& path);

}  // namespace crmhub::testutil
