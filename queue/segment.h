#pragma once
// The SQLite queue's segment encoding (schema 4, sqlite_schema.h): the
// messages one group commit enqueued on one lane (or re-scheduled there by a
// retry, or replayed from the dead letters) stored as ONE blob, plus the
// bitmap of those already settled and the dedup keys the commit accepted.
//
// A message is one entry, little endian:
//   i64 id, i64 created_at ms, i64 next_attempt_at ms, i32 attempts,
//   then (u32 length, bytes) for source, idempotency key, ordering key,
//   headers (EncodeHeaders), payload, first_error, last_error, history
//   (AppendAttempt records).
// Dedup keys: repeated (i64 accepted_at ms, u32 len, source, u32 len, key).
//
// Decoders return false on truncated input and never read past the blob.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crmhub::queue::internal {

// Little-endian writers of the queue's blobs (also headers and history,
// sqlite_util.h): u32, i64, and (u32 length, bytes).
void PutU32(std::string* out, uint32_t v);
void PutI64(std::string* out, int64_t v);
void PutBytes(std::string* out, std::string_view bytes);

struct SegmentEntry {
  int64_t id = 0;
  int64_t created_ms = 0;
  int64_t due_ms = 0;
  int32_t attempts = 0;  // persisted deliveries (Retry's count), crashes aside
  std::string source;
  std::string idempotency_key;
  std::string ordering_key;
  std::string headers;  // EncodeHeaders
  std::string payload;
  std::string first_error;
  std::string last_error;
  std::string history;  // AppendAttempt records
};

// The same fields, borrowed: what Enqueue appends without copying the
// payload twice.
struct EntryRef {
  int64_t id = 0;
  int64_t created_ms = 0;
  int64_t due_ms = 0;
  int32_t attempts = 0;
  std::string_view source, idempotency_key, ordering_key, headers, payload, first_error, last_error,
      history;
};
EntryRef RefOf(const SegmentEntry& e);

void AppendEntry(std::string* body, const EntryRef& e);
// Decodes the entry starting at *offset and moves *offset past it. With
// `skim`, the headers, payload, errors and history are skipped (left empty):
// what an open needs to index the entry.
bool ReadEntry(std::string_view body, size_t* offset, SegmentEntry* e, bool skim = false);
// Every entry of a body, in order (tests, tools).
bool DecodeSegment(std::string_view body, std::vector<SegmentEntry>* out);

// Settled bitmap: bit i (byte i / 8, bit i % 8) is message i of the segment.
bool BitIsSet(std::string_view bits, uint32_t i);
void SetBit(std::string* bits, uint32_t i);

struct DedupKey {
  int64_t accepted_ms = 0;
  std::string source;
  std::string key;
};
void AppendDedupKey(std::string* blob, int64_t accepted_ms, std::string_view source,
                    std::string_view key);
bool DecodeDedupKeys(std::string_view blob, std::vector<DedupKey>* out);

}  // namespace crmhub::queue::internal
