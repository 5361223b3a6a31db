#include "base/logging.h"

#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <mutex>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/log_fields.h"

namespace crmhub {
namespace {

// Writes one JSON object per line; escaping by nlohmann so any message
// (quotes, newlines, invalid UTF-8 replaced) stays one valid line.
class JsonStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const auto ts = FormatRfc3339(std::chrono::time_point_cast<SystemTime::duration>(msg.time));
    const auto level = spdlog::level::to_string_view(msg.level);
    std::string line = FormatJsonLogLine(ts, std::string_view(level.data(), level.size()),
                                         std::string_view(msg.payload.data(), msg.payload.size()));
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

// Text for journald: "<N>message" with the sd-daemon(3) priority prefix and
// no timestamp, since journald records both itself.
class JournalStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    // fmt rather than operator+: GCC 12 -O3 reports a false -Wrestrict on
    // chained std::string concatenation.
    std::string line =
        fmt::format("<{}>{}\n", SyslogPriority(msg.level),
                    RenderLogFieldsText(std::string_view(msg.payload.data(), msg.payload.size())));
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  static int SyslogPriority(spdlog::level::level_enum level) {
    switch (level) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        return 7;
      case spdlog::level::warn:
        return 4;
      case spdlog::level::err:
        return 3;
      case spdlog::level::critical:
        return 2;
      default:
        return 6;
    }
  }
};

// The text pattern's %* flag: the message with its fields as key=value.
class FieldsFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string text =
        RenderLogFieldsText(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<FieldsFlag>();
  }
};

}  // namespace

Result<LogFormat> ParseLogFormat(std::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return Status::InvalidArgument(
      fmt::format("log format must be \"text\" or \"json\", got \"{}\"", text));
}

bool StderrIsJournal() {
  const char* js = std::getenv("JOURNAL_STREAM");
  return js != nullptr && *js != '\0';
}

std::string FormatJsonLogLine(std::string_view ts, std::string_view level, std::string_view msg) {
  auto [text, fields] = SplitLogFields(msg);
  nlohmann::json j = {{"ts", ts}, {"level", level}, {"logger", "crmhub"}, {"msg", text}};
  if (!fields.empty()) {
    nlohmann::json f = nlohmann::json::parse(fields, nullptr, /*allow_exceptions=*/false);
    if (f.is_object()) {
      for (auto& [key, value] : f.items()) {
        if (!j.contains(key)) j[key] = value;
      }
    }
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status SetupLogging(const LogOptions& options) {
  const auto level = spdlog::level::from_str(options.level);
  if (level == spdlog::level::off && options.level != "off") {
    return Status::InvalidArgument(fmt::format("unknown log level \"{}\"", options.level));
  }
  std::shared_ptr<spdlog::logger> logger;
  if (options.format == LogFormat::kJson) {
    logger = std::make_shared<spdlog::logger>("crmhub", std::make_shared<JsonStderrSink>());
  } else if (options.journal) {
    logger = std::make_shared<spdlog::logger>("crmhub", std::make_shared<JournalStderrSink>());
  } else {
    logger = std::make_shared<spdlog::logger>("crmhub",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<FieldsFlag>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ %*");
    logger->set_formatter(std::move(formatter));
  }
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
  return Status::Ok();
}

}  // namespace crmhub
