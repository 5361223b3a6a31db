// The seller's DBS order commands (05-orders-dbs.yaml): set_status with a
// supplierStatus to move to (confirm, deliver, receive, reject, cancel),
// and ship / cancel of an item whose delivery_type is "dbs" or "edbs"; see
// WildberriesAdapter::DeliverDbsOrders and docs/adapters/wildberries.md,
// "DBS order commands".

#include <fmt/format.h>

#include <map>
#include <optional>

#include "adapters/kit/command_fields.h"
#include "adapters/kit/order_commands.h"
#include "adapters/kit/order_writes.h"
#include "adapters/wildberries/wildberries_adapter.h"
#include "base/json_get.h"

namespace crmhub::adapters::wildberries {

namespace {

// The "status" values set_status takes: the supplierStatus values the
// seller sets, each the path segment of its method.
constexpr std::array<DbsWrite, 5> kDbsWrites = {DbsWrite::kConfirm, DbsWrite::kDeliver,
                                                DbsWrite::kReceive, DbsWrite::kReject,
                                                DbsWrite::kCancel};

std::optional<DbsWrite> DbsWriteNamed(std::string_view name) {
  for (DbsWrite w : kDbsWrites) {
    if (DbsWriteName(w) == name) return w;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Scheme> CommandScheme(const nlohmann::json& item) {
  const nlohmann::json* type = JsonMember(item, "delivery_type");
  if (type == nullptr || type->is_null()) return Scheme::kFbs;
  const std::optional<std::string_view> text = AsString(*type);
  if (!text) return std::nullopt;
  if (*text == "fbs") return Scheme::kFbs;
  // OrderDBS.deliveryType: «dbs», «edbs — экспресс-доставка силами
  // продавца»: both are the DBS methods' orders.
  if (*text == "dbs" || *text == "edbs") return Scheme::kDbs;
  return std::nullopt;
}

bool DbsReached(std::string_view target, std::string_view status) {
  const std::string_view supplier = status.substr(0, status.find('/'));
  // Delivered, or further: the buyer's outcome came after the delivery.
  const bool delivered = supplier == "deliver" || supplier == "receive" || supplier == "reject";
  if (target == kit::kShip || target == "deliver") return delivered;
  if (target == "confirm") return supplier == "confirm" || delivered;
  return supplier == target;  // receive, reject, cancel
}

Result<WildberriesAdapter::DbsCommand> WildberriesAdapter::ReadDbsCommand(
    const kit::TargetCommand& c) {
  Result<int64_t> id = AssemblyTaskId(c.item);
  if (!id.ok()) return id.status();
  DbsCommand d{.write = {.index = c.index,
                         .command = c.name,
                         .order_id = std::to_string(*id),
                         .attempt = c.attempt,
                         // ship: the read tells whether to confirm first.
                         .read_first = c.name == kit::kShip},
               .id = *id,
               .target = c.name};
  if (c.name == kit::kCancel) d.target = "cancel";
  if (c.name == kit::kSetStatus) {
    const std::optional<std::string_view> status = JsonString(c.item, "status");
    const std::optional<DbsWrite> write = status ? DbsWriteNamed(*status) : std::nullopt;
    if (!write) {
      return Status::InvalidArgument(
          "set_status needs \"status\": the DBS supplierStatus to move the order to, one of "
          "confirm, deliver, receive, reject, cancel (FBS orders have no status write: use ship "
          "or cancel), got " +
          kit::QuoteMember(c.item, "status"));
    }
    d.target = std::string(*status);
    d.write.command = fmt::format("set_status {}", *status);
    if (*write == DbsWrite::kReceive || *write == DbsWrite::kReject) {
      Result<std::string> code = kit::TrimmedText(c.item, "code", 64);
      if (!code.ok()) {
        return Status::InvalidArgument(
            fmt::format("set_status {} needs \"code\": the buyer's confirmation code (WB answers "
                        "InvalidWBCode otherwise): {}",
                        *status, code.status().message()));
      }
      d.code = std::move(*code);
    }
  }
  return d;
}

void WildberriesAdapter::DeliverDbsOrders(std::vector<DbsCommand> commands,
                                          std::vector<DeliveryOutcome>& out) {
  // Commands tried before, and ships, are read first, all at once.
  std::vector<int64_t> first;
  std::map<size_t, const DbsCommand*> of;
  std::vector<kit::OrderWrite> writes;
  for (const DbsCommand& c : commands) {
    if (c.write.read_first || c.write.attempt > 1) first.push_back(c.id);
    of[c.write.index] = &c;
    writes.push_back(c.write);
  }
  StatusRead before = ReadOrderStatuses(first, Scheme::kDbs);
  std::map<int64_t, std::string> last;  // id -> the status read last
  kit::OrderWriteCalls calls;
  calls.read = [&](const kit::OrderWrite& w) -> ApiResult<std::string> {
    ApiResult<std::string> status = ReadOnce(before, of.at(w.index)->id, Scheme::kDbs);
    if (status.ok()) last[of.at(w.index)->id] = *status;
    return status;
  };
  calls.reached = [&](const kit::OrderWrite& w, std::string_view status) {
    return DbsReached(of.at(w.index)->target, status);
  };
  calls.send = [&](const kit::OrderWrite& w) -> std::optional<ApiError> {
    const DbsCommand& c = *of.at(w.index);
    std::optional<DbsWrite> write = DbsWriteNamed(c.target);
    if (c.target == kit::kShip) {
      // Ship: in delivery. A new order goes on assembly first (the
      // table's order: new, confirm, deliver); a confirm that passed and a
      // deliver that did not leave it at confirm, where a retry reads it.
      if (last[c.id].starts_with("new/")) {
        ApiResult<bool> r = client_.DbsStatus(DbsWrite::kConfirm, c.id, "");
        if (!r.ok()) return r.error();
      }
      write = DbsWrite::kDeliver;
    }
    ApiResult<bool> r = client_.DbsStatus(*write, c.id, c.code);
    return r.ok() ? std::nullopt : std::optional(r.error());
  };
  kit::DeliverOrderWrites("wildberries", writes, calls, refused_writes_, out);
}

}  // namespace crmhub::adapters::wildberries
