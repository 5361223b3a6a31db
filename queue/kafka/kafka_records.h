#pragma once
// How a queue message is laid out as a Kafka record (the Kafka engine,
// docs/queue.md "The Kafka engine"). One layout for every topic the engine
// writes: a lane, its retry copies, the dead letters.
//
//   record key  the ordering key, or the idempotency key when there is none
//               (so per-key order holds within a partition)
//   value       the payload, byte for byte
//   headers     crmhub.lane, crmhub.source, crmhub.key, crmhub.ordering_key,
//               crmhub.created_at (unix ms), crmhub.attempts (deliveries
//               started before this copy), crmhub.not_before (unix ms, when
//               set), crmhub.error (one per failed attempt, in order:
//               "<unix ms> <error>"), crmhub.reason and crmhub.failed_at
//               (dead letters), and the message's own headers as
//               "h:<name>", in order.
//
// Pure functions: no librdkafka here.

#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "queue/queue.h"

namespace crmhub::queue::kafka {

// Everything a record carries, decoded.
struct RecordFields {
  std::string lane;
  std::string source;
  std::string idempotency_key;
  std::string ordering_key;
  Headers headers;  // the message's own
  std::string payload;
  SystemTime created_at;
  int attempts = 0;
  std::vector<DeadLetterAttempt> history;
  std::optional<SystemTime> not_before;
  std::string reason;                   // dead letters
  std::optional<SystemTime> failed_at;  // dead letters
};

struct KafkaRecord {
  std::string key;
  Headers headers;  // Kafka's headers, in order (names may repeat)
  std::string value;
};

KafkaRecord EncodeRecord(const RecordFields& fields);

// kCorruption when a header the engine writes is missing or unreadable (a
// record some other producer wrote to the engine's topic).
Result<RecordFields> DecodeRecord(const Headers& kafka_headers, std::string value);

}  // namespace crmhub::queue::kafka
