#include "tests/support/prism.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

extern char** environ;

namespace crmhub::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool CanConnect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

std::string InstallHint(const std::string& binary) {
  return "Prism is not installed (" + binary +
         " not found or not executable). Contract tests need it: run "
         "`npm ci --prefix tests/contract` in the source tree (scripts/test.sh does this)";
}

}  // namespace

std::string DefaultPrismBinary() {
  if (const char* env = std::getenv("PRISM_BINARY"); env != nullptr && *env != '\0') return env;
#ifdef CRMHUB_SOURCE_DIR
  return std::string(CRMHUB_SOURCE_DIR) + "/tests/contract/node_modules/.bin/prism";
#else
  return "tests/contract/node_modules/.bin/prism";
#endif
}

Result<int> PickFreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IoError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return Status::IoError(std::string("bind: ") + std::strerror(errno));
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

Result<std::unique_ptr<PrismProcess>> PrismProcess::Start(const PrismOptions& options) {
  std::string binary = options.binary.empty() ? DefaultPrismBinary() : options.binary;
  if (::access(binary.c_str(), X_OK) != 0) return Status::FailedPrecondition(InstallHint(binary));
  if (::access(options.spec.c_str(), R_OK) != 0) {
    return Status::FailedPrecondition("OpenAPI spec not readable: " + options.spec);
  }
  if (options.mode == PrismOptions::Mode::kProxy && options.upstream.empty()) {
    return Status::InvalidArgument("prism proxy needs an upstream URL");
  }

  char tmpl[] = "/tmp/crmhub-prism-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return Status::IoError("mkdtemp failed");
  std::string temp_dir = tmpl;
  std::string log_path = temp_dir + "/prism.log";

  std::string spec = options.spec;
  if (!options.spec_rewrites.empty()) {
    std::string text = ReadFile(options.spec);
    for (const auto& [from, to] : options.spec_rewrites) {
      for (size_t pos = text.find(from); pos != std::string::npos;
           pos = text.find(from, pos + to.size())) {
        text.replace(pos, from.size(), to);
      }
    }
    spec = temp_dir + "/" + std::filesystem::path(options.spec).filename().string();
    std::ofstream(spec, std::ios::binary) << text;
  }

  auto port = PickFreeLoopbackPort();
  if (!port.ok()) return port.status();
  std::string port_text = std::to_string(*port);

  std::vector<std::string> args = {binary};
  if (options.mode == PrismOptions::Mode::kProxy) {
    args.insert(args.end(), {"proxy", spec, options.upstream});
  } else {
    args.insert(args.end(), {"mock", spec});
  }
  args.insert(args.end(), {"--host", "127.0.0.1", "--port", port_text});
  if (options.errors) args.push_back("--errors");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  // Own process group, so Stop() also ends node's children.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, binary.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status::Internal("spawning prism failed: " + std::string(std::strerror(rc)));

  std::unique_ptr<PrismProcess> process(new PrismProcess(pid, *port, log_path, temp_dir));
  auto deadline = std::chrono::steady_clock::now() + options.start_timeout;
  while (true) {
    int wstatus = 0;
    if (::waitpid(pid, &wstatus, WNOHANG) == pid) {
      process->pid_ = -1;
      return Status::Internal("prism exited before listening; its log:\n" + process->Log());
    }
    // Prism prints "Prism is listening on ..." once the spec is loaded.
    if (process->Log().find("Prism is listening") != std::string::npos && CanConnect(*port)) break;
    if (std::chrono::steady_clock::now() > deadline) {
      std::string log = process->Log();
      process->Stop();
      return Status::DeadlineExceeded("prism did not start listening in time; its log:\n" + log);
    }
    // Polling a child's readiness: no event to wait on short of parsing its
    // pipe; 50 ms granularity against a multi-second start is fine.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return process;
}

PrismProcess::~PrismProcess() {
  Stop();
  std::error_code ec;
  if (!temp_dir_.empty()) std::filesystem::remove_all(temp_dir_, ec);
}

std::string PrismProcess::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string PrismProcess::Log() const { return ReadFile(log_path_); }

void PrismProcess::Stop() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {  // up to 5 s for a clean exit
    int wstatus = 0;
    if (::waitpid(pid_, &wstatus, WNOHANG) == pid_) {
      ::kill(-pid_, SIGKILL);  // any straggler in its group
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(-pid_, SIGKILL);
  int wstatus = 0;
  ::waitpid(pid_, &wstatus, 0);
  pid_ = -1;
}

std::string PrismProblem::ToString() const {
  std::string out = std::to_string(status) + " " + title + " (" + type + ")";
  for (const auto& v : violations) out += "\n  " + v.location + ": [" + v.code + "] " + v.message;
  return out;
}

std::optional<PrismProblem> ParsePrismProblem(int status, std::string_view body) {
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return std::nullopt;
  auto type = json.find("type");
  if (type == json.end() || !type->is_string()) return std::nullopt;
  PrismProblem problem;
  problem.type = type->get<std::string>();
  if (problem.type.find("stoplight.io/prism/errors") == std::string::npos) return std::nullopt;
  problem.status = status;
  if (auto t = json.find("title"); t != json.end() && t->is_string()) problem.title = *t;
  if (auto d = json.find("detail"); d != json.end() && d->is_string()) problem.detail = *d;
  if (auto v = json.find("validation"); v != json.end() && v->is_array()) {
    for (const auto& item : *v) {
      if (!item.is_object()) continue;
      PrismViolation violation;
      if (auto loc = item.find("location"); loc != item.end() && loc->is_array()) {
        for (const auto& part : *loc) {
          if (!violation.location.empty()) violation.location += ".";
          violation.location += part.is_string() ? part.get<std::string>() : part.dump();
        }
      }
      if (auto c = item.find("code"); c != item.end()) {
        violation.code = c->is_string() ? c->get<std::string>() : c->dump();
      }
      if (auto m = item.find("message"); m != item.end() && m->is_string()) {
        violation.message = m->get<std::string>();
      }
      problem.violations.push_back(std::move(violation));
    }
  }
  return problem;
}

bool IsPrismValidationError(int status, std::string_view body) {
  auto problem = ParsePrismProblem(status, body);
  if (!problem) return false;
  // Request violations: UNPROCESSABLE_ENTITY / UNAUTHORIZED / ...;
  // response violations with --errors: VIOLATIONS. NO_PATH_MATCHED_ERROR and
  // NO_METHOD_MATCHED_ERROR mean the request used a path or method the spec
  // lacks, which is a contract violation too.
  return status >= 400;
}

}  // namespace crmhub::testing
