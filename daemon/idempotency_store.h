#pragma once
// IdempotencyStore: the server side of the Idempotency-Key header for
// POST /api/v1/commands (draft-ietf-httpapi-idempotency-key-header).
//
// Per key it keeps the request's fingerprint (SHA-256 of the body) and, once
// the first request was answered, the answer (status + body), so that:
//   * a repeat with the same body gets the first answer again;
//   * the same key with another body is refused (422);
//   * the same key while the first request is still being accepted is
//     refused (409).
//
// Why an own SQLite file rather than queue PutState/GetState: the records
// need an expiry (the draft's key lifetime; PutState keeps values forever),
// and they are not the queue's business. The queue's own dedup by
// (source "commands", "<key>:<index>") is what makes the enqueue itself
// idempotent; this store makes the *answer* repeatable.
//
// Durability: Complete() commits with synchronous=FULL before it returns, so
// a replayed answer survives a crash. "In flight" is kept in memory only: a
// crash between the enqueue and Complete() leaves no record, the client's
// retry is processed again and the queue's dedup reports the items as
// duplicates (nothing is enqueued twice).
//
// Thread-safety: every method may be called from any thread.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "base/clock.h"
#include "base/status.h"
#include "base/thread_annotations.h"

struct sqlite3;

namespace crmhub::daemon {

class IdempotencyStore {
 public:
  struct StoredResponse {
    int status = 0;
    std::string body;
  };

  enum class Decision {
    kProceed,   // new key: now in flight; call Complete() or Abandon()
    kInFlight,  // same key, same body, first request not answered yet: 409
    kMismatch,  // same key, another body (answered or in flight): 422
    kReplay,    // same key, same body, answered before: `response`
  };
  struct BeginResult {
    Decision decision = Decision::kProceed;
    StoredResponse response;  // for kReplay
  };

  // Opens or creates the file (and its folder). Records older than
  // `retention` are purged at open and then now and again.
  static Result<std::unique_ptr<IdempotencyStore>> Open(const std::filesystem::path& file,
                                                        Clock& clock,
                                                        std::chrono::milliseconds retention);
  ~IdempotencyStore();
  IdempotencyStore(const IdempotencyStore&) = delete;
  IdempotencyStore& operator=(const IdempotencyStore&) = delete;

  // Looks the key up; on kProceed the key is marked in flight.
  Result<BeginResult> Begin(const std::string& key, const std::string& fingerprint);
  // Releases an in-flight key without recording anything (the request
  // failed in a way the client may retry with the same key).
  void Abandon(const std::string& key);
  // Durably records the answer and releases the in-flight mark (also when
  // the write fails).
  Status Complete(const std::string& key, const std::string& fingerprint,
                  const StoredResponse& response);

  // Hex SHA-256 of a request body.
  static std::string Fingerprint(std::string_view body);

 private:
  IdempotencyStore(sqlite3* db, Clock& clock, std::chrono::milliseconds retention);
  Status PurgeLocked();

  Clock& clock_;
  const std::chrono::milliseconds retention_;
  std::mutex mu_;
  sqlite3* db_ GUARDED_BY(mu_);
  std::unordered_map<std::string, std::string> in_flight_ GUARDED_BY(mu_);  // key -> fingerprint
  int completes_since_purge_ GUARDED_BY(mu_) = 0;
};

}  // namespace crmhub::daemon
