#pragma once
// MakeSink: builds the configured CrmSink from plain options. The runtime
// converts the [crm] config section into SinkOptions:
//
//   [crm] sink       -> type        ("sqlite" default, or "http")
//   [daemon] data_dir-> data_dir    (sqlite: crm.db lives there)
//   [crm] url        -> url         (http)
//   [crm] token_file -> token       (http)
//   [crm] timeout    -> timeout     (http, per request)
//   [crm] lead_merge_window -> lead_merge_window (sqlite; SqliteStoreOptions)
//   [crm] order_status_precedence -> order_status_precedence (sqlite)

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/secret.h"
#include "base/status.h"
#include "crm/sink.h"
#include "net/http_client.h"

namespace crmhub::crm {

struct SinkOptions {
  std::string type = "sqlite";  // "sqlite" | "http"
  // sqlite
  std::filesystem::path data_dir;
  int busy_timeout_ms = 5000;
  std::chrono::milliseconds lead_merge_window{0};  // 0: off
  // Orders' statuses first to last, equal ranks joined by '|'
  // (model::DeclaredStatusPrecedence::FromEntries).
  std::vector<std::string> order_status_precedence;
  // http
  std::string url;
  Secret token;
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  int max_in_flight = 16;
};

// InvalidArgument for a bad combination (unknown type, http without url,
// token or client); the store's open error for sqlite. `clock` and
// `http_client` (needed for "http" only; may be null for "sqlite") must
// outlive the sink.
Result<std::unique_ptr<CrmSink>> MakeSink(const SinkOptions& options, Clock& clock,
                                          net::HttpClient* http_client);

}  // namespace crmhub::crm
