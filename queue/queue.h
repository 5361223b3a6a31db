#pragma once
// The engine-neutral durable queue: every inbound event and every outbound
// command passes through it.
//
// Promises (every engine, SQLite now and Kafka later):
//  * Enqueue answers Accepted or Duplicate only after the message (and its
//    dedup record) is durable. A crash after the answer loses nothing.
//  * Idempotency: (source, idempotency_key) accepted within the retention
//    window is a Duplicate, also when the first copy was already delivered.
//  * Leases: a leased message is invisible to other consumers until it is
//    settled (acked, retried, failed) or the lease expires (then it is
//    delivered again). A restart of the engine may make every leased
//    message due again: delivery is at least once.
//  * Ordering key: messages of one lane sharing an ordering key are leased in
//    enqueue order, one in flight at a time.
//  * Retries belong to the queue: a Retry settlement schedules the next attempt with the
//    lane's backoff, and moves the message to the dead letters when the lane's
//    max_attempts or max_age is exceeded.
//
// Thread-safety: every method may be called from any thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace crmhub::queue {

using Headers = std::vector<std::pair<std::string, std::string>>;

// What a producer hands in.
struct NewMessage {
  std::string lane;             // e.g. "in.site", "out.ozon-main"
  std::string source;           // dedup scope: usually the adapter id
  std::string idempotency_key;  // unique within source; required
  std::string ordering_key;     // empty: no ordering constraint
  Headers headers;
  std::string payload;                   // raw bytes, kept as received
  std::optional<SystemTime> not_before;  // first delivery not before this
};

enum class EnqueueOutcome { kAccepted, kDuplicate };

// A message as stored.
struct Message {
  int64_t id = 0;  // engine-assigned, unique per database
  std::string lane;
  std::string source;
  std::string idempotency_key;
  std::string ordering_key;
  Headers headers;
  std::string payload;
  int attempts = 0;  // deliveries started so far (incremented by Lease), including
                     // those in flight when a process ended (the poison rule's count)
  std::string first_error;
  std::string last_error;
  SystemTime created_at;
  SystemTime next_attempt_at;
};

// Proof of a lease. A settlement whose token is stale (the lease expired
// and the message was leased again, or it was already settled) is answered
// kFailedPrecondition and changes nothing.
struct LeaseToken {
  int64_t message_id = 0;
  int64_t token = 0;
};

// How one leased message ends its attempt (Queue::Settle).
struct Settlement {
  enum class Kind {
    kAck,    // delivered: the message goes; its dedup record stays for the retention window
    kRetry,  // try again later (or dead-letter it past the lane's limits)
    kFail,   // permanent failure: straight to the dead letters
  };
  LeaseToken lease;
  Kind kind = Kind::kAck;
  std::string reason;                    // kRetry/kFail: the error recorded in the history
  std::optional<SystemTime> not_before;  // kRetry: replaces the computed backoff (Retry-After)
  // kRetry: the receiving system throttled us (429, a rate limit); the
  // message was never judged. The delivery Lease counted is given back
  // (Message::attempts does not grow), so only max_age can dead-letter it;
  // the reason still goes into the history.
  bool throttled = false;

  static Settlement Ack(const LeaseToken& lease) { return {lease, Kind::kAck, {}, std::nullopt}; }
  static Settlement Throttled(const LeaseToken& lease, std::string reason,
                              std::optional<SystemTime> not_before = std::nullopt) {
    return {lease, Kind::kRetry, std::move(reason), not_before, /*throttled=*/true};
  }
  static Settlement Retry(const LeaseToken& lease, std::string reason,
                          std::optional<SystemTime> not_before = std::nullopt) {
    return {lease, Kind::kRetry, std::move(reason), not_before};
  }
  static Settlement Fail(const LeaseToken& lease, std::string reason) {
    return {lease, Kind::kFail, std::move(reason), std::nullopt};
  }
};

struct Leased {
  Message message;
  LeaseToken lease;
  SystemTime lease_expires_at;
};

// Per-lane retry policy: exponential backoff with full jitter,
// delay = random(0, min(max_backoff, initial_backoff * 2^(attempts-1))).
struct RetryPolicy {
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(5)};
  int max_attempts = 20;                                      // then dead letter
  std::chrono::milliseconds max_age{std::chrono::hours(24)};  // since created_at
};

struct LaneStats {
  std::string lane;
  int64_t ready = 0;                            // due now
  int64_t delayed = 0;                          // waiting for next_attempt_at
  int64_t leased = 0;                           // in flight
  int64_t dead = 0;                             // dead letters of this lane
  std::optional<SystemTime> oldest_created_at;  // of ready+delayed+leased
};

struct DeadLetterAttempt {
  SystemTime at;
  std::string error;
};

struct DeadLetter {
  int64_t id = 0;  // the message id it had
  std::string lane;
  std::string source;
  std::string idempotency_key;
  std::string ordering_key;
  Headers headers;
  std::string payload;
  int attempts = 0;
  std::string reason;                      // the final error
  std::vector<DeadLetterAttempt> history;  // every attempt's error and time
  SystemTime created_at;
  SystemTime failed_at;
};

struct DeadLetterFilter {
  std::optional<std::string> lane;
  int64_t after_id = 0;  // paging: ids greater than this
  int limit = 100;
};

class Queue {
 public:
  virtual ~Queue() = default;

  using EnqueueCallback = std::function<void(Result<std::vector<EnqueueOutcome>>)>;

  // Durably enqueues a batch; outcomes are in input order. All or nothing:
  // on error nothing was accepted. Duplicates within one batch: the first is
  // Accepted.
  // Never blocks the caller (an I/O thread may call it). The callback runs
  // exactly once: on an engine thread once the batch is durable (or its
  // write failed), or, for a refusal known at once, on the calling thread
  // before EnqueueAsync returns: kInvalidArgument (a message without lane,
  // source or key) and kResourceExhausted (the engine is at its bound of
  // undelivered messages or of work waiting for the disk; retry later).
  // Keep it short, post real work elsewhere, and hold no lock it takes.
  virtual void EnqueueAsync(std::vector<NewMessage> messages, EnqueueCallback done) = 0;

  // Blocking forms of EnqueueAsync, for CLI tools, tests and benchmarks.
  Result<std::vector<EnqueueOutcome>> EnqueueBatch(std::vector<NewMessage> messages);
  Result<EnqueueOutcome> Enqueue(NewMessage message);

  // Leases up to `max` due messages of `lane`, oldest first, honouring
  // ordering keys. Returns an empty vector when nothing is due.
  virtual Result<std::vector<Leased>> Lease(const std::string& lane, int max,
                                            std::chrono::milliseconds lease_duration) = 0;

  // Settles leased messages, all in ONE durable commit (a batch of 1,000
  // throttled deliveries costs one fsync, not 1,000); answers are in input
  // order and all are given only once that commit is durable.
  //  * Ack: the message is removed; its dedup record stays for the
  //    retention window.
  //  * Retry: the next attempt is scheduled with the lane's backoff, or at
  //    `not_before` when given (e.g. from Retry-After). Past the lane's
  //    max_attempts or max_age the message becomes a dead letter instead,
  //    and the answer is still OK.
  //  * Fail: straight to the dead letters with `reason`.
  // Per item, a stale token is answered kFailedPrecondition and changes
  // nothing; the other items are unaffected. Only a storage failure fails
  // them all (every answer then carries it, and nothing was settled: the
  // leases expire and the messages are delivered again).
  // The same lease twice in one call: the first settles it, the second is
  // stale.
  virtual std::vector<Status> Settle(std::span<const Settlement> settlements) = 0;

  using SettleCallback = std::function<void(std::vector<Status>)>;
  // Settle without waiting for the commit, so that a consumer can lease its
  // next batch while its last one settles (one durable wait per batch
  // instead of two). The same guarantees and answers as Settle; `done` runs
  // exactly once, with the answers in input order, once the commit is
  // durable (or failed): on an engine thread, or on the calling thread
  // before SettleAsync returns. A call the same thread makes after
  // SettleAsync returns is applied after these settlements (a Lease then
  // sees an acked message gone and its ordering key's next message due).
  // Never refused for being behind: settling shrinks what the engine holds.
  // Keep `done` short and hold no lock it takes, as for EnqueueAsync.
  // The default settles synchronously (Settle) and then calls `done`: an
  // engine without an asynchronous path keeps every promise above.
  virtual void SettleAsync(std::vector<Settlement> settlements, SettleCallback done);

  // One-item and ack-only forms of Settle, for call sites that settle one
  // message (CLI tools, tests) or only acks.
  Status Ack(const LeaseToken& lease);
  std::vector<Status> AckBatch(std::span<const LeaseToken> leases);
  Status Retry(const LeaseToken& lease, const std::string& error,
               std::optional<SystemTime> not_before = std::nullopt);
  Status Fail(const LeaseToken& lease, const std::string& error);

  virtual Result<std::vector<LaneStats>> Stats() = 0;

  // Dead letters.
  virtual Result<std::vector<DeadLetter>> ListDeadLetters(const DeadLetterFilter& filter) = 0;
  virtual Result<DeadLetter> GetDeadLetter(int64_t id) = 0;
  // Back to its lane under the same id, with its history; attempts reset,
  // same idempotency key; kNotFound if gone.
  virtual Status ReplayDeadLetter(int64_t id) = 0;
  // Returns how many were replayed.
  virtual Result<int64_t> ReplayAllDeadLetters(std::optional<std::string> lane) = 0;
  virtual Status DropDeadLetter(int64_t id) = 0;
  // Drops dead letters that failed before `cutoff`; returns how many.
  virtual Result<int64_t> PurgeDeadLetters(SystemTime cutoff) = 0;

  // Small durable key/value state for adapters (pull cursors). Written in
  // its own durable commit: callers save a cursor only after the events it
  // covers were enqueued, so a crash in between re-pulls (and dedup absorbs
  // the repeat).
  virtual Status PutState(const std::string& key, const std::string& value) = 0;
  virtual Result<std::optional<std::string>> GetState(const std::string& key) = 0;

  // False after an I/O error made the engine refuse writes.
  virtual bool Healthy() const = 0;
  // Total messages not yet delivered (ready + delayed + leased), all lanes.
  virtual int64_t Depth() const = 0;
};

}  // namespace crmhub::queue
