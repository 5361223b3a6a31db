#pragma once
// LogCapture: while alive, the default spdlog logger writes into memory (at
// every level); the previous logger is restored on destruction. Lines are the
// raw payloads (with LogWithFields' encoded fields); Find decodes them.

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/log_fields.h"

namespace crmhub::testutil {

class LogCapture {
 public:
  struct Line {
    std::string msg;
    nlohmann::json fields;  // an object (empty when the line has none)
  };

  LogCapture() : previous_(spdlog::default_logger()), sink_(std::make_shared<Sink>()) {
    auto logger = std::make_shared<spdlog::logger>("capture", sink_);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(std::move(logger));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::vector<Line> Lines() const {
    std::vector<Line> out;
    for (const std::string& p : sink_->Payloads()) {
      auto [msg, fields] = SplitLogFields(p);
      Line l{std::string(msg), nlohmann::json::object()};
      if (!fields.empty()) l.fields = nlohmann::json::parse(fields, nullptr, false);
      out.push_back(std::move(l));
    }
    return out;
  }
  // The lines whose message is `msg`.
  std::vector<Line> WithMessage(const std::string& msg) const {
    std::vector<Line> out;
    for (Line& l : Lines()) {
      if (l.msg == msg) out.push_back(std::move(l));
    }
    return out;
  }
  // Every payload, fields rendered as text.
  std::string All() const {
    std::string out;
    for (const std::string& p : sink_->Payloads()) out += RenderLogFieldsText(p) + "\n";
    return out;
  }

 private:
  class Sink final : public spdlog::sinks::base_sink<std::mutex> {
   public:
    std::vector<std::string> Payloads() {
      std::lock_guard lock(mutex_);
      return payloads_;
    }

   protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
      payloads_.emplace_back(msg.payload.data(), msg.payload.size());
    }
    void flush_() override {}

   private:
    std::vector<std::string> payloads_;  // guarded by base_sink's mutex_
  };
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<Sink> sink_;
};

}  // namespace crmhub::testutil
