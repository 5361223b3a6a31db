#pragma once
// ReferenceCrmServer: a reference implementation of docs/crm-core-api.yaml on
// net::HttpServer, for tests (REST sink, daemon end-to-end) and the demo.
// It stores into a real SqliteCrmStore, so its idempotency and version rules
// are exactly the embedded store's.
//
//   PUT /v1/entities/{kind}/{source}/{external_id}   upsert (201 created,
//       200 updated|unchanged|stale|duplicate), 400 bad JSON / no key,
//       401 bad token, 404 unknown kind, 422 invalid entity
//   GET /v1/entities/{kind}/{source}/{external_id}   200 entity | 404
//   GET /v1/health                                    200
//
// Fault knobs: the next N PUTs answer 503 (with Retry-After when set);
// every PUT answers 422 while reject_all is on.
//
// Thread-safety: the knobs and requests() may be used from the test thread
// while the io_context threads serve. The handler blocks on SQLite; fine
// for tests, not a pattern for the daemon.

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "base/clock.h"
#include "base/status.h"
#include "crm/sqlite_store.h"
#include "net/http_server.h"

namespace crmhub::crm::testing {

struct ReferenceCrmOptions {
  std::string token = "test-token";
  std::filesystem::path db_path;  // the store's file
  std::string listen = "127.0.0.1:0";
};

class ReferenceCrmServer {
 public:
  struct Seen {
    std::string method;
    std::string target;
    std::string idempotency_key;
    std::string authorization;
    std::string body;
    int status = 0;
  };

  // The io_context must be run by other threads; `clock` outlives the server.
  static Result<std::unique_ptr<ReferenceCrmServer>> Start(boost::asio::io_context& io,
                                                           Clock& clock,
                                                           ReferenceCrmOptions options);
  ~ReferenceCrmServer();

  std::string base_url() const;  // "http://127.0.0.1:PORT"
  SqliteCrmStore& store() { return *store_; }

  void FailNextWith503(int count, std::optional<int> retry_after_seconds = std::nullopt);
  void RejectAllWith422(bool on) { reject_all_ = on; }
  std::vector<Seen> requests() const;
  void Stop();

 private:
  ReferenceCrmServer(Clock& clock, ReferenceCrmOptions options,
                     std::unique_ptr<SqliteCrmStore> store);
  void Handle(const net::HttpRequest& request, const net::Responder& respond);
  net::HttpResponse Route(const net::HttpRequest& request);
  net::HttpResponse Put(const net::HttpRequest& request, const std::vector<std::string>& seg);
  net::HttpResponse Get(const std::vector<std::string>& seg);

  Clock& clock_;
  const ReferenceCrmOptions options_;
  std::unique_ptr<SqliteCrmStore> store_;
  std::unique_ptr<net::HttpServer> server_;
  std::atomic<int> fail_503_{0};
  std::atomic<int> retry_after_{-1};
  std::atomic<bool> reject_all_{false};
  mutable std::mutex mu_;
  std::vector<Seen> seen_;  // GUARDED_BY(mu_)
};

}  // namespace crmhub::crm::testing
