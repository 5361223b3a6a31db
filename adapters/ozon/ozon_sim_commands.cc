// The simulator's FBS posting writes: /v3/posting/fbs/get,
// /v4/posting/fbs/ship and /v2/posting/fbs/cancel, and the FBS status
// machine for the seller, read from ozon-seller-api.swagger.json (the
// operations' descriptions, the tag Errors' tables and the cancel reason
// lists' examples), never from the adapter.

#include <map>

#include "adapters/ozon/ozon_sim.h"
#include "base/json_get.h"

namespace crmhub::adapters::ozon {

using nlohmann::json;

namespace {

// The seller's cancel reasons the spec lists as available for cancellation
// (/v2/posting/fbs/cancel-reason/list's example: 352 and 402 with
// is_available_for_cancellation true, 401 and 666 false;
// /v1/posting/fbs/cancel-reason's example adds 400 among the seller's).
bool SellerCancelReason(int64_t id) { return id == 352 || id == 400 || id == 402; }

}  // namespace

std::string_view SellerWriteRefusal(std::string_view write, std::string_view status) {
  if (status == "cancelled") return "POSTING_ALREADY_CANCELLED";
  if (write == "ship") {
    // «переводит его в статус awaiting_deliver»: from awaiting_packaging.
    if (status == "awaiting_packaging") return "";
    if (status == "awaiting_deliver" || status == "delivering" || status == "delivered") {
      return "POSTING_ALREADY_SHIPPED";
    }
    return "HAS_INCORRECT_STATUS";
  }
  // cancel: a posting not yet handed over. The spec names only the
  // conditionally delivered as not cancellable; the simulator refuses every
  // posting on its way or delivered, with ship's HAS_INCORRECT_STATUS (the
  // cancel method's own table lists only HAS_INCORRECT_CANCEL_REASON).
  if (status == "awaiting_packaging" || status == "awaiting_deliver") return "";
  return "HAS_INCORRECT_STATUS";
}

SimPosting* OzonSimulator::FindFbsLocked(std::string_view number) {
  // Posting numbers are built from the index: "<50000000 + i>-<i % 10000>-1".
  const std::optional<int64_t> order =
      number.size() > 8 ? ParseDecimalInt(number.substr(0, 8)) : std::nullopt;
  if (!order || *order < 50000000) return nullptr;
  const size_t i = static_cast<size_t>(*order - 50000000);
  if (i >= postings_.size()) return nullptr;
  SimPosting& p = postings_[i];
  if (p.posting_number != number || p.fbo || p.created > clock_.Now()) return nullptr;
  return &p;
}

void OzonSimulator::MoveLocked(SimPosting& p, SystemTime now, std::string status) {
  const size_t step = StepOf(p, now);
  p.steps.resize(step + 1);
  p.steps.emplace_back(std::max(now, p.steps[step].first), std::move(status));
}

net::HttpResponse OzonSimulator::GetPosting(const json& body, bool) {
  const std::string_view number = JsonString(body, "posting_number").value_or("");
  if (number.empty()) return RpcError(400, 3, "posting_number is required");
  std::lock_guard lock(postings_mu_);
  const SimPosting* p = FindFbsLocked(number);
  if (p == nullptr) return RpcError(404, 5, "POSTING_NOT_FOUND");
  simkit::JsonText out;
  out.BeginObject().Key("result");
  AppendPosting(out, *p, StepOf(*p, clock_.Now()));
  out.EndObject();
  return net::HttpResponse::Json(200, out.Take());
}

net::HttpResponse OzonSimulator::Ship(const json& body, bool) {
  // The schema: posting_number and packages[].products[] required.
  const std::string_view number = JsonString(body, "posting_number").value_or("");
  const json* packages = JsonArray(body, "packages");
  if (number.empty() || packages == nullptr || packages->empty()) {
    return RpcError(400, 3, "posting_number and packages are required");
  }
  std::map<int64_t, int64_t> shipped;  // sku -> quantity over all packages
  for (const json& package : *packages) {
    const json* products = package.is_object() ? JsonArray(package, "products") : nullptr;
    if (products == nullptr || products->empty()) {
      return RpcError(400, 3, "packages[].products is required");
    }
    for (const json& product : *products) {
      const std::optional<int64_t> id =
          product.is_object() ? JsonInt(product, "product_id") : std::nullopt;
      const std::optional<int64_t> quantity =
          product.is_object() ? JsonInt(product, "quantity") : std::nullopt;
      if (!id || !quantity)
        return RpcError(400, 3, "products[]: product_id and quantity are required");
      shipped[*id] += *quantity;
    }
  }
  std::lock_guard lock(postings_mu_);
  SimPosting* p = FindFbsLocked(number);
  if (p == nullptr) return RpcError(404, 5, "POSTING_NOT_FOUND");
  const SystemTime now = clock_.Now();
  const std::string_view refusal = SellerWriteRefusal("ship", p->steps[StepOf(*p, now)].second);
  if (!refusal.empty()) return RpcError(400, 3, refusal);
  // «идентификатор товара в системе Ozon — SKU»: the posting's one product.
  const int64_t sku = 200001 + p->offer_index;
  for (const auto& [id, quantity] : shipped) {
    if (id != sku) return RpcError(400, 3, "UNKNOWN_PRODUCT_DEFINED");
  }
  if (shipped[sku] != p->quantity) return RpcError(400, 3, "HAS_INCORRECT_PRODUCT_QUANTITY");
  MoveLocked(*p, now, "awaiting_deliver");
  // The simulator does not split a posting: several packages answer its
  // own number.
  return net::HttpResponse::Json(200, json{{"result", json::array({p->posting_number})}}.dump());
}

net::HttpResponse OzonSimulator::Cancel(const json& body, bool) {
  const std::string_view number = JsonString(body, "posting_number").value_or("");
  const std::optional<int64_t> reason = JsonInt(body, "cancel_reason_id");
  if (number.empty() || !reason) {
    return RpcError(400, 3, "posting_number and cancel_reason_id are required");
  }
  if (!SellerCancelReason(*reason)) return RpcError(400, 3, "HAS_INCORRECT_CANCEL_REASON");
  // «Если значение параметра cancel_reason_id — 402, заполните поле
  // cancel_reason_message.»
  if (*reason == 402 && JsonString(body, "cancel_reason_message").value_or("").empty()) {
    return RpcError(400, 3, "cancel_reason_message is required for cancel_reason_id 402");
  }
  std::lock_guard lock(postings_mu_);
  SimPosting* p = FindFbsLocked(number);
  if (p == nullptr) return RpcError(404, 5, "POSTING_NOT_FOUND");
  const SystemTime now = clock_.Now();
  const std::string_view refusal = SellerWriteRefusal("cancel", p->steps[StepOf(*p, now)].second);
  if (!refusal.empty()) return RpcError(400, 3, refusal);
  MoveLocked(*p, now, "cancelled");
  p->cancel_reason_id = *reason;
  return net::HttpResponse::Json(200, R"({"result":true})");
}

}  // namespace crmhub::adapters::ozon
