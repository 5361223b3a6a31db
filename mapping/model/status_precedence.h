#pragma once
// Status precedence: for the kinds whose status only moves forward (a
// payment, a refund), the order of statuses decides which of two records of
// one entity is the newer, before any version does. The CRM store honours it
// (crm/sqlite_store.h), so that a provider's late or repeated notification
// can never walk a payment back, whichever versions the mapping rules give:
//
//   payment  pending < authorized < failed = canceled < succeeded < refunded
//   refund   pending < failed = canceled < succeeded
//
// Between statuses of equal rank (and for statuses this table does not
// know) the version decides, as for every other kind.
//
// One move is not merely stale but a contradiction the provider must
// explain: `canceled` (or, for a refund, `failed`) arriving for an entity
// the store holds as `succeeded` or `refunded`. CompareStatus answers
// kConflict for it; the store keeps what it holds and fails the event
// (a dead letter naming both sides) and logs it at error.
//
// Pure functions over constant tables; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "mapping/model/entity.h"

namespace crmhub::model {

// True for the kinds this precedence orders (payment, refund).
bool HasStatusPrecedence(EntityKind kind);

// The rank of `status` for `kind` (larger is later), or nullopt when the
// kind has no precedence or the status is not one of its canonical ones.
std::optional<int> StatusRank(EntityKind kind, std::string_view status);

enum class StatusOrder {
  kNewer,     // incoming's status ranks above the stored one's
  kOlder,     // below: the incoming record is stale
  kSame,      // equal ranks, or a status without rank: the version decides
  kConflict,  // a contradiction (see above): alert, keep the stored record
};
std::string_view StatusOrderName(StatusOrder order);  // "newer", ...

// How an incoming record's status relates to the stored one's.
StatusOrder CompareStatus(EntityKind kind, std::string_view stored, std::string_view incoming);

// A precedence declared by configuration, for the kinds whose statuses are
// the business's own (an order's: docs/model.md gives no canonical ones),
// compared as the tables above are: `ranks` lists the statuses from first
// to last, statuses in one entry sharing a rank (["new"], ["Принят",
// "В работе"], ["Отгружен"], ...); `conflicts` lists (stored, incoming)
// pairs that contradict each other. Between equal ranks, and for a status
// not declared, the version decides, as for the tables: for an order that
// is the time of its change (the rules' `version`), so two sides' changes
// resolve by declared precedence, then by time.
class DeclaredStatusPrecedence {
 public:
  // From config entries, first to last, equal ranks joined by '|'
  // ("Принят|В работе"); InvalidArgument for an empty status or one
  // declared twice.
  static Result<DeclaredStatusPrecedence> FromEntries(const std::vector<std::string>& entries);

  DeclaredStatusPrecedence() = default;
  explicit DeclaredStatusPrecedence(std::vector<std::vector<std::string>> ranks,
                                    std::vector<std::pair<std::string, std::string>> conflicts = {})
      : ranks_(std::move(ranks)), conflicts_(std::move(conflicts)) {}

  bool empty() const { return ranks_.empty(); }
  // 1 for the first entry's statuses, and so on; nullopt when undeclared.
  std::optional<int> Rank(std::string_view status) const;
  StatusOrder Compare(std::string_view stored, std::string_view incoming) const;
  // Whether `incoming` must not replace `held`: it ranks below it (kOlder)
  // or contradicts it (kConflict). The store applies the same rule to what
  // arrives; a sender of orders (onec-exchange's type=sale query) applies it
  // to what would leave, so that it never sends a status older than the one
  // the other side already reported.
  bool Stale(std::string_view held, std::string_view incoming) const;

 private:
  std::vector<std::vector<std::string>> ranks_;
  std::vector<std::pair<std::string, std::string>> conflicts_;
};

}  // namespace crmhub::model
