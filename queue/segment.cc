#include "queue/segment.h"

namespace crmhub::queue::internal {
void PutU32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(b, 4);
}

void PutI64(std::string* out, int64_t v) {
  auto u = static_cast<uint64_t>(v);
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((u >> (8 * i)) & 0xff);
  out->append(b, 8);
}

void PutBytes(std::string* out, std::string_view bytes) {
  PutU32(out, static_cast<uint32_t>(bytes.size()));
  out->append(bytes);
}

namespace {

bool GetU32(std::string_view body, size_t* at, uint32_t* v) {
  if (*at > body.size() || body.size() - *at < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) *v |= uint32_t{static_cast<unsigned char>(body[*at + i])} << (8 * i);
  *at += 4;
  return true;
}

bool GetI64(std::string_view body, size_t* at, int64_t* v) {
  if (*at > body.size() || body.size() - *at < 8) return false;
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u |= uint64_t{static_cast<unsigned char>(body[*at + i])} << (8 * i);
  *v = static_cast<int64_t>(u);
  *at += 8;
  return true;
}

// Reads one (u32 length, bytes) field into *out, or only skips it (out null).
bool GetBytes(std::string_view body, size_t* at, std::string* out) {
  uint32_t n = 0;
  if (!GetU32(body, at, &n) || body.size() - *at < n) return false;
  if (out != nullptr) out->assign(body.data() + *at, n);
  *at += n;
  return true;
}

}  // namespace

EntryRef RefOf(const SegmentEntry& e) {
  return {e.id,           e.created_ms, e.due_ms,  e.attempts,    e.source,     e.idempotency_key,
          e.ordering_key, e.headers,    e.payload, e.first_error, e.last_error, e.history};
}

void AppendEntry(std::string* body, const EntryRef& e) {
  PutI64(body, e.id);
  PutI64(body, e.created_ms);
  PutI64(body, e.due_ms);
  PutU32(body, static_cast<uint32_t>(e.attempts));
  for (std::string_view s : {e.source, e.idempotency_key, e.ordering_key, e.headers, e.payload,
                             e.first_error, e.last_error, e.history}) {
    PutBytes(body, s);
  }
}

bool ReadEntry(std::string_view body, size_t* offset, SegmentEntry* e, bool skim) {
  size_t at = *offset;
  uint32_t attempts = 0;
  if (!GetI64(body, &at, &e->id) || !GetI64(body, &at, &e->created_ms) ||
      !GetI64(body, &at, &e->due_ms) || !GetU32(body, &at, &attempts)) {
    return false;
  }
  e->attempts = static_cast<int32_t>(attempts);
  if (!GetBytes(body, &at, &e->source) || !GetBytes(body, &at, &e->idempotency_key) ||
      !GetBytes(body, &at, &e->ordering_key)) {
    return false;
  }
  for (std::string* s : {&e->headers, &e->payload, &e->first_error, &e->last_error, &e->history}) {
    if (!GetBytes(body, &at, skim ? nullptr : s)) return false;
  }
  *offset = at;
  return true;
}

bool DecodeSegment(std::string_view body, std::vector<SegmentEntry>* out) {
  size_t at = 0;
  while (at < body.size()) {
    SegmentEntry e;
    if (!ReadEntry(body, &at, &e)) return false;
    out->push_back(std::move(e));
  }
  return true;
}

bool BitIsSet(std::string_view bits, uint32_t i) {
  return i / 8 < bits.size() && (static_cast<unsigned char>(bits[i / 8]) >> (i % 8)) & 1;
}

void SetBit(std::string* bits, uint32_t i) {
  if (bits->size() <= i / 8) bits->resize(i / 8 + 1, '\0');
  (*bits)[i / 8] = static_cast<char>(static_cast<unsigned char>((*bits)[i / 8]) | (1u << (i % 8)));
}

void AppendDedupKey(std::string* blob, int64_t accepted_ms, std::string_view source,
                    std::string_view key) {
  PutI64(blob, accepted_ms);
  PutBytes(blob, source);
  PutBytes(blob, key);
}

bool DecodeDedupKeys(std::string_view blob, std::vector<DedupKey>* out) {
  size_t at = 0;
  while (at < blob.size()) {
    DedupKey k;
    if (!GetI64(blob, &at, &k.accepted_ms) || !GetBytes(blob, &at, &k.source) ||
        !GetBytes(blob, &at, &k.key)) {
      return false;
    }
    out->push_back(std::move(k));
  }
  return true;
}

}  // namespace crmhub::queue::internal
