#include "adapters/kit/product_cards.h"

#include <fmt/format.h>

#include <utility>

#include "adapters/kit/unreadable_record.h"
#include "base/json_get.h"

namespace crmhub::adapters::kit {

using nlohmann::json;

namespace {

// 64-bit FNV-1a, as hex: a stable key for a card without an update time.
std::string Fnv1a(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

}  // namespace

InboundEvent ProductEvent(const ProductCard& card, std::string_view marketplace) {
  json barcodes = json::array();
  for (const std::string& b : card.barcodes) barcodes.push_back(b);
  json payload = {{"sku", card.sku},
                  {"marketplace", marketplace},
                  {"marketplace_id", card.marketplace_id},
                  {"name", card.name},
                  {"barcodes", std::move(barcodes)},
                  {"archived", card.archived},
                  {"updated_ms", card.updated_ms},
                  {"attributes", card.attributes.is_object() ? card.attributes : json::object()}};
  InboundEvent e;
  e.kind = "product";
  e.payload = payload.dump();
  e.idempotency_key =
      fmt::format("product:{}:{}", card.marketplace_id,
                  card.updated_ms > 0 ? std::to_string(card.updated_ms) : Fnv1a(e.payload));
  e.ordering_key = card.sku;
  return e;
}

std::string CardProblem(const ProductCard& card) {
  if (card.sku.empty()) return "a card without the seller's article (SKU)";
  if (card.marketplace_id.empty()) return "a card without the marketplace's id";
  return "";
}

void QueueCards(const std::vector<PulledCard>& cards, std::string_view marketplace,
                std::string_view where, SkuIndex& index, std::vector<InboundEvent>& out) {
  for (size_t i = 0; i < cards.size(); ++i) {
    const PulledCard& c = cards[i];
    if (std::string problem = CardProblem(c.card); !problem.empty()) {
      out.push_back(UnreadableRecord(
          c.raw, fmt::format("{}: {} [{}]: {}", marketplace, where, i, problem), "product"));
      continue;
    }
    index.Put(c.card.sku, c.card.marketplace_id);
    out.push_back(ProductEvent(c.card, marketplace));
  }
}

bool CatalogPass::Due(int64_t now_ms) {
  if (in_pass) return true;
  if (now_ms < next_ms) return false;
  in_pass = true;
  page_token.clear();
  return true;
}

bool CatalogPass::After(std::string next_token, bool page_empty, int64_t now_ms,
                        int64_t interval_ms) {
  if (!next_token.empty() && !page_empty) {
    page_token = std::move(next_token);
    return true;
  }
  page_token.clear();
  in_pass = false;
  next_ms = now_ms + interval_ms;
  return false;
}

json CatalogPass::ToObject() const {
  return {{"page_token", page_token}, {"next_ms", next_ms}, {"in_pass", in_pass}};
}

std::optional<CatalogPass> CatalogPass::FromObject(const json& j) {
  if (!j.is_object()) return std::nullopt;
  CatalogPass p{.page_token = std::string(JsonString(j, "page_token").value_or("")),
                .next_ms = JsonInt(j, "next_ms").value_or(0),
                .in_pass = JsonBool(j, "in_pass").value_or(false)};
  if (p.next_ms < 0) return std::nullopt;
  return p;
}

void SkuIndex::Put(const std::string& sku, const std::string& marketplace_id) {
  std::lock_guard lock(mu_);
  ids_[sku] = marketplace_id;
}

void SkuIndex::Replace(std::map<std::string, std::string> all) {
  std::lock_guard lock(mu_);
  ids_ = std::move(all);
}

std::optional<std::string> SkuIndex::Find(const std::string& sku) const {
  std::lock_guard lock(mu_);
  auto it = ids_.find(sku);
  return it == ids_.end() ? std::nullopt : std::optional<std::string>(it->second);
}

size_t SkuIndex::size() const {
  std::lock_guard lock(mu_);
  return ids_.size();
}

std::string UnknownSku(std::string_view prefix, std::string_view name, std::string_view sku,
                       std::string_view where, std::string_view id_field) {
  return fmt::format(
      "{}: SKU \"{}\" is not in the {} catalogue ({}); pull the product cards or give {}", prefix,
      sku, name, where, id_field);
}

}  // namespace crmhub::adapters::kit
