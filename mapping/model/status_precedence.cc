#include "mapping/model/status_precedence.h"

#include <algorithm>
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

// The order of two ranks: kSame when either is unknown or they are equal.
StatusOrder CompareRanks(std::optional<int> stored, std::optional<int> incoming) {
  if (!stored || !incoming || *stored == *incoming) return StatusOrder::kSame;
  return *incoming > *stored ? StatusOrder::kNewer : StatusOrder::kOlder;
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
  return CompareRanks(StatusRank(kind, stored), StatusRank(kind, incoming));
}

Result<DeclaredStatusPrecedence> DeclaredStatusPrecedence::FromEntries(
    const std::vector<std::string>& entries) {
  std::vector<std::vector<std::string>> ranks;
  std::vector<std::string_view> seen;
  for (const std::string& entry : entries) {
    std::vector<std::string> rank;
    std::string_view rest = entry;
    while (true) {
      const size_t bar = rest.find('|');
      const std::string_view status = rest.substr(0, bar);
      if (status.empty()) {
        return Status::InvalidArgument("status precedence: an empty status in \"" + entry + "\"");
      }
      if (std::find(seen.begin(), seen.end(), status) != seen.end()) {
        return Status::InvalidArgument("status precedence: \"" + std::string(status) +
                                       "\" is declared twice");
      }
      seen.push_back(status);
      rank.emplace_back(status);
      if (bar == std::string_view::npos) break;
      rest.remove_prefix(bar + 1);
    }
    ranks.push_back(std::move(rank));
  }
  return DeclaredStatusPrecedence(std::move(ranks));
}

std::optional<int> DeclaredStatusPrecedence::Rank(std::string_view status) const {
  for (size_t i = 0; i < ranks_.size(); ++i) {
    for (const std::string& s : ranks_[i]) {
      if (s == status) return static_cast<int>(i) + 1;
    }
  }
  return std::nullopt;
}

StatusOrder DeclaredStatusPrecedence::Compare(std::string_view stored,
                                              std::string_view incoming) const {
  for (const auto& [s, i] : conflicts_) {
    if (s == stored && i == incoming) return StatusOrder::kConflict;
  }
  return CompareRanks(Rank(stored), Rank(incoming));
}

bool DeclaredStatusPrecedence::Stale(std::string_view held, std::string_view incoming) const {
  const StatusOrder order = Compare(held, incoming);
  return order == StatusOrder::kOlder || order == StatusOrder::kConflict;
}

}  // namespace crmhub::model
