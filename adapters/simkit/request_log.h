#pragma once
// RequestLog: what a simulator was asked and what it answered, for tests
// (rate and batch-size checks) and for `GET /__sim/requests`.
//
// Thread-safe: Record() from any I/O thread, queries from any thread. The
// log keeps the newest `max_entries` records (older ones are dropped and
// counted). Credentials are never stored: the Authorization header (and any
// header named in `redacted_headers`) is kept as "***".

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "adapters/simkit/fault_spec.h"
#include "net/http_types.h"

namespace crmhub::simkit {

struct LoggedRequest {
  uint64_t seq = 0;   // 1, 2, ... in arrival order
  int64_t at_ms = 0;  // steady time since the log was created
  std::string method;
  std::string path;
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;  // redacted
  std::string body;                                          // truncated to max_body_bytes
  size_t body_bytes = 0;                                     // full size
  int status = 0;              // answer status; 0 while unanswered/held
  Fault fault = Fault::kNone;  // injected fault, if any
  std::string note;            // simulator's remark ("rate limited", ...)
};

class RequestLog {
 public:
  struct Options {
    size_t max_entries = 200'000;
    size_t max_body_bytes = 256 * 1024;
    std::vector<std::string> redacted_headers = {"Authorization", "Api-Key", "Client-Id"};
  };
  RequestLog();
  explicit RequestLog(Options options);

  // Records an arriving request; returns its seq for Complete().
  uint64_t Record(const net::HttpRequest& request, int64_t at_ms);
  // Sets the answer of a recorded request (ignored if already dropped).
  void Complete(uint64_t seq, int status, Fault fault = Fault::kNone, std::string note = {});

  std::vector<LoggedRequest> Snapshot() const;
  // Records whose method and path match (empty method: any).
  std::vector<LoggedRequest> Find(std::string_view method, std::string_view path) const;
  size_t size() const;
  uint64_t dropped() const;
  void Clear();

  // {"dropped": n, "requests": [{seq, at_ms, method, path, query, headers,
  //   body, body_bytes, status, fault, note}, ...]}; `since_seq` skips older.
  std::string ToJson(uint64_t since_seq = 0) const;

 private:
  Options options_;
  mutable std::mutex mu_;
  std::vector<LoggedRequest> entries_;  // ring once full
  size_t head_ = 0;                     // oldest entry once full
  uint64_t next_seq_ = 1;
  uint64_t dropped_ = 0;
};

}  // namespace crmhub::simkit
