#pragma once
// Orders waiting for 1C (type=sale&mode=query), kept until 1C confirms them
// (mode=success), and what 1C itself last sent of each order, so that the
// CRM's copy of a change crmhub wrote from 1C is not sent back (an echo).
//
// The CRM core sends its new and changed orders as `export_order` commands
// (POST /api/v1/commands, target = the adapter); each item is one order in
// the canonical model's shape (docs/model.md: order_id, number, status,
// created_ms, currency, total and lines in minor units, customer_name).
// Put() writes it to dir/pending/<hash of order_id>.json (temporary file,
// fsync, rename: durable before the command leaves the queue), replacing an
// older version of the same order. Pending() lists them; Confirm() removes
// those 1C confirmed, only at the version it was sent (a change that came
// after the query goes again). Nothing else removes an order: one queried
// but never confirmed (1C failed before success) is answered again at the
// next query.
//
// Echoes: Remember1c() records the fingerprint of an order 1C sent
// (dir/from1c/...); Put() of an order whose fingerprint equals it is that
// write coming back, and is dropped (reported as kEcho).
//
// Precedence: with a `stale` check (the declared order status precedence,
// [crm] order_status_precedence), an order whose status ranks below the
// one 1C last sent of it is not sent to 1C: Put() drops it (kStale), and
// Pending() drops one that became stale while it waited (1C reported a
// later status after the CRM's change was put, in the same window). Equal
// ranks and undeclared statuses are sent, as without the check: 1C orders
// them by its own time.
//
// Thread-safe (one mutex; the files are small).

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace crmhub::adapters::onec_exchange {

struct PendingOrder {
  std::string order_id;
  std::string version;  // hash of the order as put
  nlohmann::json order;
};

// "6734.47" → 673447, "340" → 34000, "-1.5" → -150; nullopt for anything
// else (more than two decimals, no digits).
std::optional<int64_t> MinorUnits(std::string_view decimal);

// What an order says that 1C and the CRM both keep: status, total, and the
// lines (sku, quantity, price, total), as one string.
//   From the canonical order (a command item).
std::string CanonicalFingerprint(const nlohmann::json& order);
//   From an order document 1C sent (commerceml_parser.h's Документ record).
std::string DocumentFingerprint(const nlohmann::json& document);

// True when status `incoming` must not replace `held` (see above).
using StatusStale = std::function<bool(std::string_view held, std::string_view incoming)>;

class OrderOutbox {
 public:
  enum class PutResult { kQueued, kEcho, kStale };

  explicit OrderOutbox(std::filesystem::path dir, StatusStale stale = {})
      : dir_(std::move(dir)), stale_(std::move(stale)) {}

  // InvalidArgument for an order without order_id; Unavailable when the
  // disk fails (retry).
  Result<PutResult> Put(const nlohmann::json& order);
  // The pending orders, oldest file name order, at most `limit`; one whose
  // status became stale against what 1C sent since is removed, not listed,
  // and counted in `*stale` when given.
  Result<std::vector<PendingOrder>> Pending(size_t limit, int* stale = nullptr);
  // Removes each of `sent` still at the version sent; how many.
  Result<int> Confirm(const std::vector<PendingOrder>& sent);
  Status Remember1c(const std::string& order_id, const std::string& fingerprint);
  // Forgets the fingerprints untouched for `retention` before `now`, then
  // the oldest beyond `max_kept`; how many. A forgotten one lets at most
  // one echo of that order through (sent to 1C once more, unchanged).
  Result<int> Forget1c(std::chrono::system_clock::time_point now,
                       std::chrono::milliseconds retention, size_t max_kept);

 private:
  std::filesystem::path PendingPath(const std::string& order_id) const;
  std::filesystem::path From1cPath(const std::string& order_id) const;

  // Whether `order` is stale against what 1C last sent of it (mu_ held).
  bool StaleAgainst1c(const std::string& order_id, const nlohmann::json& order) const;

  const std::filesystem::path dir_;
  const StatusStale stale_;
  mutable std::mutex mu_;
};

}  // namespace crmhub::adapters::onec_exchange
