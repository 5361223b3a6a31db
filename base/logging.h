#pragma once
// Process logging setup (spdlog).
//
// spdlog's default logger is the one process-wide object we keep: logging is
// configured once in main() from [log] and --log-format, and code logs with
// spdlog::info(...) etc. Secrets cannot leak through it because they are
// crmhub::Secret values, which format as "***".

#include <string>
#include <string_view>

#include "base/status.h"

namespace crmhub {

enum class LogFormat { kText, kJson };

struct LogOptions {
  LogFormat format = LogFormat::kText;
  std::string level = "info";  // trace, debug, info, warn, error
  // Under systemd (JOURNAL_STREAM set): no timestamp (journald adds one) and
  // "<N>" syslog priority prefixes so journald records the level.
  bool journal = false;
};

Result<LogFormat> ParseLogFormat(std::string_view text);
// Detects journald from the environment (JOURNAL_STREAM).
bool StderrIsJournal();

// Installs the default logger writing to stderr. Idempotent.
Status SetupLogging(const LogOptions& options);

// One log line as JSON (exposed for tests):
// {"ts":"2026-...Z","level":"info","logger":"crmhub","msg":"..."}
std::string FormatJsonLogLine(std::string_view ts, std::string_view level, std::string_view msg);

}  // namespace crmhub
