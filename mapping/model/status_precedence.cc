#include "mapping/model/status_precedence.h"

#include <utility>

namespace crmhub::model {
namespace {

struct Ranked {
  std::string_view status;
  int rank;
};

// docs/model.md's canonical statuses, in the order above.
constexpr Ranked kPaymentRanks[] = {
    {"pending", 1},  {"authorized", 2}, {"failed", 3},
    {"canceled", 3}, {"succeeded", 4},  {"refunded", 5},
};
constexpr Ranked kRefundRanks[] = {
    {"pending", 1}, {"failed", 2}, {"canceled", 2}, {"succeeded", 3}};

// (stored, incoming) pairs that contradict each other.
constexpr std::pair<std::string_view, std::string_view> kPaymentConflicts[] = {
    {"succeeded", "canceled"}, {"refunded", "canceled"}};
constexpr std::pair<std::string_view, std::string_view> kRefundConflicts[] = {
    {"succeeded", "canceled"}, {"succeeded", "failed"}};

template <size_t N>
std::optional<int> Find(const Ranked (&table)[N], std::string_view status) {
  for (const Ranked& r : table) {
    if (r.status == status) return r.rank;
  }
  return std::nullopt;
}

template <size_t N>
bool Contains(const std::pair<std::string_view, std::string_view> (&table)[N],
              std::string_view stored, std::string_view incoming) {
  for (const auto& [s, i] : table) {
    if (s == stored && i == incoming) return true;
  }
  return false;
}

}  // namespace

bool HasStatusPrecedence(EntityKind kind) {
  return kind == EntityKind::kPayment || kind == EntityKind::kRefund;
}

std::optional<int> StatusRank(EntityKind kind, std::string_view status) {
  if (kind == EntityKind::kPayment) return Find(kPaymentRanks, status);
  if (kind == EntityKind::kRefund) return Find(kRefundRanks, status);
  return std::nullopt;
}

std::string_view StatusOrderName(StatusOrder order) {
  switch (order) {
    case StatusOrder::kNewer:
      return "newer";
    case StatusOrder::kOlder:
      return "older";
    case StatusOrder::kSame:
      return "same";
    case StatusOrder::kConflict:
      return "conflict";
  }
  return "same";
}

StatusOrder CompareStatus(EntityKind kind, std::string_view stored, std::string_view incoming) {
  if (kind == EntityKind::kPayment && Contains(kPaymentConflicts, stored, incoming)) {
    return StatusOrder::kConflict;
  }
  if (kind == EntityKind::kRefund && Contains(kRefundConflicts, stored, incoming)) {
    return StatusOrder::kConflict;
  }
  const std::optional<int> s = StatusRank(kind, stored);
  const std::optional<int> i = StatusRank(kind, incoming);
  if (!s || !i || *s == *i) return StatusOrder::kSame;
  return *i > *s ? StatusOrder::kNewer : StatusOrder::kOlder;
}

}  // namespace crmhub::model
