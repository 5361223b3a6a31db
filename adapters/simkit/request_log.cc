#include "adapters/simkit/request_log.h"

#include <nlohmann/json.hpp>

namespace crmhub::simkit {

RequestLog::RequestLog() : RequestLog(Options{}) {}
RequestLog::RequestLog(Options options) : options_(std::move(options)) {}

uint64_t RequestLog::Record(const net::HttpRequest& request, int64_t at_ms) {
  LoggedRequest e;
  e.at_ms = at_ms;
  e.method = request.method;
  e.path = request.path;
  e.query = request.query;
  for (const auto& [name, value] : request.headers.entries()) {
    bool redact = false;
    for (const auto& r : options_.redacted_headers)
      redact = redact || net::EqualsIgnoreCase(r, name);
    e.headers.emplace_back(name, redact ? "***" : value);
  }
  e.body_bytes = request.body.size();
  e.body = request.body.substr(0, options_.max_body_bytes);
  std::lock_guard lock(mu_);
  e.seq = next_seq_++;
  if (entries_.size() < options_.max_entries) {
    entries_.push_back(std::move(e));
  } else {
    entries_[head_] = std::move(e);
    head_ = (head_ + 1) % entries_.size();
    ++dropped_;
  }
  return next_seq_ - 1;
}

void RequestLog::Complete(uint64_t seq, int status, Fault fault, std::string note) {
  std::lock_guard lock(mu_);
  if (entries_.empty()) return;
  // Entries are in seq order starting at head_; find by offset.
  uint64_t oldest = entries_[head_].seq;
  if (seq < oldest || seq >= next_seq_) return;
  LoggedRequest& e = entries_[(head_ + (seq - oldest)) % entries_.size()];
  e.status = status;
  e.fault = fault;
  e.note = std::move(note);
}

std::vector<LoggedRequest> RequestLog::Snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<LoggedRequest> out;
  out.reserve(entries_.size());
  for (size_t i = 0; i < entries_.size(); ++i)
    out.push_back(entries_[(head_ + i) % entries_.size()]);
  return out;
}

std::vector<LoggedRequest> RequestLog::Find(std::string_view method, std::string_view path) const {
  std::vector<LoggedRequest> out;
  for (auto& e : Snapshot()) {
    if ((method.empty() || e.method == method) && e.path == path) out.push_back(std::move(e));
  }
  return out;
}

size_t RequestLog::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

uint64_t RequestLog::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void RequestLog::Clear() {
  std::lock_guard lock(mu_);
  entries_.clear();
  head_ = 0;
}

std::string RequestLog::ToJson(uint64_t since_seq) const {
  nlohmann::json requests = nlohmann::json::array();
  for (const auto& e : Snapshot()) {
    if (e.seq <= since_seq) continue;
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& [name, value] : e.headers) headers[name] = value;
    requests.push_back({{"seq", e.seq},
                        {"at_ms", e.at_ms},
                        {"method", e.method},
                        {"path", e.path},
                        {"query", e.query},
                        {"headers", std::move(headers)},
                        {"body", e.body},
                        {"body_bytes", e.body_bytes},
                        {"status", e.status},
                        {"fault", std::string(FaultName(e.fault))},
                        {"note", e.note}});
  }
  nlohmann::json out = {{"dropped", dropped()}, {"requests", std::move(requests)}};
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace crmhub::simkit
