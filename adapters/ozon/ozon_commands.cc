// The seller's FBS posting commands: ship (/v4/posting/fbs/ship) and
// cancel (/v2/posting/fbs/cancel), one posting per request, settled by
// kit::DeliverOrderWrites (see docs/adapters/ozon.md, "Posting commands").

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string_view>

#include "adapters/kit/command_fields.h"
#include "adapters/kit/order_commands.h"
#include "adapters/kit/order_writes.h"
#include "adapters/ozon/ozon_adapter.h"
#include "base/json_get.h"

namespace crmhub::adapters::ozon {

using nlohmann::json;

namespace {

// The statuses a posting has once it is packed (ship reached it): every
// status of the FBS status filter after awaiting_packaging, and delivered.
bool Shipped(std::string_view status) {
  static constexpr std::string_view kAfterPacking[] = {
      "awaiting_registration", "awaiting_deliver", "acceptance_in_progress", "arbitration",
      "client_arbitration",    "delivering",       "driver_pickup",          "not_accepted",
      "sent_by_seller",        "delivered"};
  return std::find(std::begin(kAfterPacking), std::end(kAfterPacking), status) !=
         std::end(kAfterPacking);
}

Result<ShipPackages> ReadPackages(const json& packages) {
  if (!packages.is_array() || packages.empty()) {
    return Status::InvalidArgument("packages must be a non-empty array of {\"products\": [...]}");
  }
  ShipPackages out;
  for (const json& package : packages) {
    const json* products = package.is_object() ? JsonArray(package, "products") : nullptr;
    if (products == nullptr || products->empty()) {
      return Status::InvalidArgument("each package needs a non-empty products array");
    }
    std::vector<ShipProduct>& list = out.emplace_back();
    for (const json& p : *products) {
      const std::optional<int64_t> id =
          p.is_object() ? JsonIntLoose(p, "product_id") : std::nullopt;
      const std::optional<int64_t> quantity =
          p.is_object() ? JsonIntLoose(p, "quantity") : std::nullopt;
      if (!id || *id <= 0 || !quantity || *quantity <= 0) {
        return Status::InvalidArgument(
            "each product needs product_id (Ozon's SKU) and a quantity > 0");
      }
      list.push_back({.product_id = *id, .quantity = *quantity});
    }
  }
  return out;
}

}  // namespace

Result<OzonAdapter::PostingCommand> OzonAdapter::ReadPostingCommand(const kit::TargetCommand& c) {
  Result<std::string> key = kit::OrderKey(c.item);
  if (!key.ok()) return key.status();
  if (key->find('-') == std::string::npos) {
    return Status::InvalidArgument(
        "order_id must be the posting_number (\"12345678-0001-1\"), got " +
        kit::QuoteMember(c.item, "order_id"));
  }
  PostingCommand p{
      .write = {
          .index = c.index, .command = c.name, .order_id = std::move(*key), .attempt = c.attempt}};
  for (const char* member : {"delivery_schema", "scheme"}) {
    const std::string_view scheme = JsonString(c.item, member).value_or("");
    if (scheme == "fbo" || scheme == "FBO") {
      return Status::InvalidArgument(fmt::format(
          "posting {} is FBO: Ozon packs, ships and cancels FBO postings itself; they are "
          "read-only (ship and cancel are FBS methods)",
          p.write.order_id));
    }
  }
  if (c.name == kit::kShip) {
    if (const json* packages = JsonMember(c.item, "packages"); packages && !packages->is_null()) {
      Result<ShipPackages> read = ReadPackages(*packages);
      if (!read.ok()) return read.status();
      p.packages = std::move(*read);
    }
    // Without packages the posting is read and shipped in one package.
    p.write.read_first = p.packages.empty();
    return p;
  }
  const json* reason = JsonMember(c.item, "cancel_reason_id");
  if (reason != nullptr && !reason->is_null()) {
    const std::optional<int64_t> id = JsonIntLoose(c.item, "cancel_reason_id");
    if (!id || std::find(std::begin(kSellerCancelReasons), std::end(kSellerCancelReasons), *id) ==
                   std::end(kSellerCancelReasons)) {
      return Status::InvalidArgument(
          "cancel_reason_id must be a seller's cancel reason the spec lists (352, 400, 402), got " +
          kit::QuoteMember(c.item, "cancel_reason_id"));
    }
    p.reason_id = *id;
  }
  for (const char* member : {"cancel_reason_message", "reason"}) {
    if (const std::optional<std::string_view> text = JsonString(c.item, member);
        text && !text->empty()) {
      p.reason_message = std::string(*text);
      break;
    }
  }
  // 402 («Другое (вина продавца)») needs cancel_reason_message.
  if (p.reason_id == kOtherSellerReason && p.reason_message.empty()) {
    p.reason_message = kDefaultCancelMessage;
  }
  return p;
}

void OzonAdapter::DeliverPostings(std::vector<PostingCommand> commands,
                                  std::vector<DeliveryOutcome>& out) const {
  // The products of the postings read first, for a ship without packages.
  std::map<std::string, std::vector<ShipProduct>> products;
  std::vector<kit::OrderWrite> writes;
  std::map<size_t, const PostingCommand*> by_index;
  for (const PostingCommand& c : commands) {
    writes.push_back(c.write);
    by_index[c.write.index] = &c;
  }
  kit::OrderWriteCalls calls;
  calls.read = [&](const kit::OrderWrite& w) -> net::ApiResult<std::string> {
    net::ApiResult<FbsPosting> posting = client_.GetFbsPosting(w.order_id);
    if (!posting.ok()) return posting.error();
    products[w.order_id] = posting->products;
    return posting->status;
  };
  calls.reached = [](const kit::OrderWrite& w, std::string_view status) {
    return w.command == kit::kShip ? Shipped(status) : status == "cancelled";
  };
  calls.send = [&](const kit::OrderWrite& w) -> std::optional<net::ApiError> {
    const PostingCommand& c = *by_index.at(w.index);
    if (w.command == kit::kCancel) {
      auto answer = client_.CancelFbsPosting(w.order_id, c.reason_id, c.reason_message);
      return answer.ok() ? std::nullopt : std::optional(answer.error());
    }
    ShipPackages packages = c.packages;
    if (packages.empty()) {
      std::vector<ShipProduct> all = products[w.order_id];
      std::erase_if(all, [](const ShipProduct& p) { return p.product_id <= 0 || p.quantity <= 0; });
      if (all.empty()) {
        return net::ApiError{.kind = net::ApiError::Kind::kRejected,
                             .message = "ozon: /v3/posting/fbs/get lists no products to pack"};
      }
      packages.push_back(std::move(all));
    }
    auto answer = client_.ShipFbsPosting(w.order_id, packages);
    return answer.ok() ? std::nullopt : std::optional(answer.error());
  };
  kit::DeliverOrderWrites("ozon", writes, calls, refused_writes_, out);
}

}  // namespace crmhub::adapters::ozon
