#pragma once
// The undelivered messages of a SQLite queue file, read from outside the
// engine: `crmhub reconcile` counts an inbound source's pending messages by
// day without knowing the queue's storage layout (schema 4 keeps messages in
// segment blobs, queue/segment.h; older files in `messages` rows).
//
// Read-only and safe beside a running daemon: one read transaction, so the
// scan sees one committed state (WAL snapshot) and takes no write lock.
// Leased messages count as undelivered (they are, until settled).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>

#include "base/status.h"

namespace crmhub::queue {

struct PendingMessage {
  std::string_view lane;
  std::string_view source;
  int64_t created_ms = 0;  // Unix ms when first enqueued
};

// Calls `visit` once per undelivered message; the views are valid during the
// call only. A file without the queue's tables visits nothing and is OK.
Status ForEachPendingMessage(const std::filesystem::path& queue_db,
                             const std::function<void(const PendingMessage&)>& visit);

}  // namespace crmhub::queue
