#include "tests/support/spec_operations.h"

#include <cstdio>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

namespace crmhub::testing {
namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

bool SpecOperation::Matches(std::string_view m, std::string_view p) const {
  if (m != method) return false;
  const auto want = Segments(path);
  const auto got = Segments(p.substr(0, p.find('?')));
  if (want.size() != got.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    const bool param = want[i].size() >= 2 && want[i].front() == '{' && want[i].back() == '}';
    if (param ? got[i].empty() : want[i] != got[i]) return false;
  }
  return true;
}

Result<std::vector<SpecOperation>> LoadSpecOperations(const std::vector<std::string>& specs) {
  const std::string script = std::string(CRMHUB_SOURCE_DIR) + "/tests/contract/spec_operations.js";
  const std::string modules = std::string(CRMHUB_SOURCE_DIR) + "/tests/contract/node_modules";
  std::vector<SpecOperation> out;
  for (const std::string& spec : specs) {
    const std::string command = "NODE_PATH=" + ShellQuote(modules) + " node " + ShellQuote(script) +
                                " " + ShellQuote(spec) + " 2>&1";
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
    if (!pipe) return Status::FailedPrecondition("cannot run node");
    std::string text;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), pipe.get())) > 0) text.append(buf, n);
    const int rc = pclose(pipe.release());
    if (rc != 0) {
      return Status::FailedPrecondition(
          "reading the operations of " + spec + " failed (needs Node.js and `npm ci --prefix " +
          "tests/contract`, which scripts/test.sh runs): " + text.substr(0, 2000));
    }
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      const std::string line = text.substr(pos, end - pos);
      pos = end + 1;
      if (line.empty()) continue;
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_object())
        return Status::Internal("unreadable line from spec_operations.js: " + line);
      out.push_back({j.value("method", ""), j.value("path", ""), j.value("operationId", ""),
                     j.value("deprecated", false), j.value("shutdown", ""),
                     j.value("replacement", ""), j.value("scope", "")});
    }
  }
  if (out.empty()) return Status::FailedPrecondition("no operations found in the specs");
  return out;
}

CallFindings CheckCalls(const std::vector<SpecOperation>& operations,
                        const std::vector<std::pair<std::string, std::string>>& calls) {
  CallFindings findings;
  std::set<std::string> seen;
  for (const auto& [method, path] : calls) {
    const SpecOperation* match = nullptr;
    for (const SpecOperation& op : operations) {
      if (op.Matches(method, path)) {
        match = &op;
        break;
      }
    }
    const std::string call = method + " " + (match ? match->path : path);
    if (!seen.insert(call).second) continue;
    if (match == nullptr) {
      findings.unknown.push_back(call);
    } else if (match->deprecated) {
      std::string what = call + " (" + match->operation_id;
      if (!match->shutdown.empty()) what += ", shutdown " + match->shutdown;
      if (!match->replacement.empty()) what += ", use " + match->replacement;
      findings.deprecated.push_back(what + ")");
    }
  }
  return findings;
}

}  // namespace crmhub::testing
