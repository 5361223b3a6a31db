// WildberriesAdapter::DeliverStocks: set_stock commands -> PUT
// /api/v3/stocks/{warehouseId} by chrtId, with the size table that turns a
// barcode into its chrtID and names the items of a 409.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <unordered_map>

#include "adapters/wildberries/wildberries_adapter.h"
#include "base/json_get.h"

namespace crmhub::adapters::wildberries {
namespace {

// A set_stock command, read.
struct StockCommand {
  size_t index = 0;  // into the batch
  int64_t warehouse = 0;
  int64_t chrt_id = 0;  // 0: to be resolved from `barcode`
  std::string barcode;  // the command's sku ("" when none)
  int64_t amount = 0;
};

// StoreIsProcessing: "Склад находится в процессе обновления или удаления.
// Повторите попытку через несколько секунд."
constexpr std::string_view kStoreIsProcessing = "StoreIsProcessing";
constexpr std::chrono::seconds kStoreBusyPause{5};

Result<StockCommand> ReadStock(const kit::TargetCommand& c, const std::set<int64_t>& warehouses) {
  StockCommand s{.index = c.index};
  auto warehouse = CommandInt(c.item, {"warehouse_id", "warehouseId"});
  if (!warehouse) return Status::InvalidArgument("warehouse_id missing or not an integer");
  if (!warehouses.empty() && !warehouses.count(*warehouse)) {
    return Status::InvalidArgument(
        fmt::format("warehouse {} is not in this adapter's warehouses", *warehouse));
  }
  s.warehouse = *warehouse;
  s.chrt_id = CommandInt(c.item, {"chrt_id", "chrtId"}).value_or(0);
  s.barcode = std::string(JsonString(c.item, "sku").value_or(""));
  if (s.chrt_id <= 0 && s.barcode.empty()) {
    return Status::InvalidArgument(
        "needs chrt_id (the size id) or sku (a barcode, or the card's vendorCode)");
  }
  auto amount = CommandInt(c.item, {"amount"});
  if (!amount || *amount < 0 || *amount > kMaxStockAmount) {
    return Status::InvalidArgument(fmt::format("amount must be an integer 0..{}", kMaxStockAmount));
  }
  s.amount = *amount;
  return s;
}

// The outcomes of a request's items WB answered 409 (StocksWarehouseError,
// which names items by barcode only): an error's barcodes are matched
// through each command's own sku and the cards' barcodes of its chrtID;
// those items fail (StoreIsProcessing: retry in a few seconds). An error
// naming nothing retries the whole request; items no error names are
// retried (whether WB applied them is not documented; a stock is an
// absolute value, sending it again is safe). Returns the barcodes that
// match no item of the request.
std::vector<std::string> SettleConflicts(const std::vector<StockConflict>& conflicts,
                                         const std::vector<const StockCommand*>& request,
                                         const SizeTable& sizes, SystemTime now,
                                         std::vector<DeliveryOutcome>& out) {
  std::unordered_map<std::string, std::vector<size_t>> named_by;  // barcode -> items
  for (const StockCommand* s : request) {
    if (!s->barcode.empty()) named_by[s->barcode].push_back(s->index);
    if (auto it = sizes.barcodes.find(s->chrt_id); it != sizes.barcodes.end()) {
      for (const std::string& b : it->second) {
        if (b != s->barcode) named_by[b].push_back(s->index);
      }
    }
  }
  std::map<size_t, DeliveryOutcome> settled;
  std::optional<DeliveryOutcome> whole;
  std::vector<std::string> unknown;
  for (const StockConflict& c : conflicts) {
    const std::string text = fmt::format("wildberries: 409 {}: {}", c.code, c.message);
    const bool busy = c.code == kStoreIsProcessing;
    const std::optional<SystemTime> pause =
        busy ? std::optional(now + kStoreBusyPause) : std::nullopt;
    if (c.barcodes.empty()) whole = DeliveryOutcome::Retry(text, pause);
    for (const std::string& b : c.barcodes) {
      auto it = named_by.find(b);
      if (it == named_by.end()) unknown.push_back(b);
      const std::string item_text = fmt::format("{} (barcode {})", text, b);
      for (size_t i : it == named_by.end() ? std::vector<size_t>() : it->second) {
        settled[i] =
            busy ? DeliveryOutcome::Retry(item_text, pause) : DeliveryOutcome::Fail(item_text);
      }
    }
  }
  const DeliveryOutcome rest = whole.value_or(DeliveryOutcome::Retry(
      unknown.empty() ? std::string("wildberries: 409 for other items of the request; sent again")
                      : fmt::format("wildberries: 409 names barcodes no item of the request "
                                    "carries ({}); sent again",
                                    fmt::join(unknown, ", "))));
  for (const StockCommand* s : request) {
    auto it = settled.find(s->index);
    out[s->index] = it != settled.end() ? it->second : rest;
  }
  return unknown;
}

}  // namespace

std::optional<int64_t> WildberriesAdapter::IdOf(const kit::SkuIndex& index,
                                                const std::string& sku) {
  const std::optional<std::string> id = index.Find(sku);
  return id ? ParseDecimalInt(*id) : std::nullopt;
}

void WildberriesAdapter::IndexCards(const std::vector<kit::PulledCard>& cards) {
  for (const kit::PulledCard& c : cards) {
    if (!kit::CardProblem(c.card).empty()) continue;
    nm_of_sku_.Put(c.card.sku, c.card.marketplace_id);
    const nlohmann::json* chrt_ids = JsonArray(c.card.attributes, "chrt_ids");
    const std::optional<int64_t> only =
        chrt_ids && chrt_ids->size() == 1 ? AsInt((*chrt_ids)[0]) : std::nullopt;
    chrt_of_sku_.Put(c.card.sku, std::to_string(only.value_or(0)));
  }
}

std::optional<ApiError> WildberriesAdapter::ReadSizes() {
  SizeTable& t = sizes_;
  if (!t.reading) {
    if (t.read_at && clock_.Now() - *t.read_at < config_.cards_refresh) return std::nullopt;
    t.reading = true;
    t.started = clock_.Now();
    t.cursor = {};
    t.next.clear();
  }
  // Page after page until the content limit refuses (a Retry at its time;
  // the read goes on at the next call) or the last page.
  for (;;) {
    auto page = client_.ListCards(t.cursor, kMaxCardsPage);
    if (!page.ok()) return page.error();
    IndexCards(page->products);
    for (const CardSize& size : page->sizes) {
      for (const std::string& b : size.barcodes) t.next[b] = size.chrt_id;
    }
    const bool last = page->total < kMaxCardsPage || page->cursor == t.cursor;
    t.cursor = page->cursor;
    if (!last) continue;
    t.chrt_of = std::exchange(t.next, {});
    t.barcodes.clear();
    for (const auto& [barcode, chrt] : t.chrt_of) t.barcodes[chrt].push_back(barcode);
    t.read_at = t.started;
    t.reading = false;
    return std::nullopt;
  }
}

void WildberriesAdapter::DeliverStocks(std::span<const kit::TargetCommand> commands,
                                       std::vector<DeliveryOutcome>& out) {
  std::vector<StockCommand> items;
  for (const kit::TargetCommand& c : commands) {
    Result<StockCommand> s = ReadStock(c, config_.warehouses);
    if (s.ok()) items.push_back(std::move(s).value());
    if (!s.ok()) out[c.index] = DeliveryOutcome::Fail("set_stock: " + s.status().message());
  }
  std::unique_lock lock(sizes_mu_);
  // A barcode alone names its size through the cards, read when a barcode
  // is unknown and the table is older than cards_refresh (once a call).
  bool asked = false;
  std::optional<ApiError> reading;
  auto resolve = [&](StockCommand& s) -> std::optional<DeliveryOutcome> {
    // A barcode first; else the CRM's SKU, a card's vendorCode, when its
    // card has one size.
    auto find = [&] {
      if (auto it = sizes_.chrt_of.find(s.barcode); it != sizes_.chrt_of.end()) {
        s.chrt_id = it->second;
      } else if (std::optional<int64_t> chrt = ChrtOfSku(s.barcode)) {
        s.chrt_id = *chrt;
      }
      return s.chrt_id > 0;
    };
    auto several = [&]() -> std::optional<DeliveryOutcome> {
      if (ChrtOfSku(s.barcode) != 0) return std::nullopt;
      return DeliveryOutcome::Fail(fmt::format(
          "set_stock: the card of vendorCode {} has several sizes; name one by its barcode "
          "(sku) or chrt_id",
          s.barcode));
    };
    if (s.chrt_id > 0 || find()) return std::nullopt;
    if (auto o = several()) return o;
    if (!asked) {
      asked = true;
      reading = ReadSizes();
      if (find()) return std::nullopt;
      if (auto o = several()) return o;
    }
    if (!reading) {
      return DeliveryOutcome::Fail(fmt::format(
          "set_stock: barcode {} is on no card of this seller (cards read at {}); as the CRM's "
          "SKU: {}",
          s.barcode, FormatRfc3339(*sizes_.read_at),
          kit::UnknownSku("wildberries", "Wildberries", s.barcode, "/content/v2/get/cards/list",
                          "a barcode or chrt_id")));
    }
    DeliveryOutcome o = reading->ToOutcome();
    o.error = "set_stock: barcode " + s.barcode + ": reading the cards: " + o.error;
    return o;
  };
  std::map<int64_t, std::vector<const StockCommand*>> by_warehouse;
  for (StockCommand& s : items) {
    if (std::optional<DeliveryOutcome> unresolved = resolve(s)) {
      out[s.index] = std::move(*unresolved);
    } else {
      by_warehouse[s.warehouse].push_back(&s);
    }
  }
  lock.unlock();  // the table again only for a 409

  std::optional<ApiError> stop;  // once throttled, the rest waits too
  for (const auto& [warehouse, all] : by_warehouse) {
    // The newest command per size is sent; earlier ones are superseded (Ok).
    std::vector<std::string> keys;
    for (const StockCommand* s : all) keys.push_back(std::to_string(s->chrt_id));
    const std::vector<size_t> last = kit::LastPerKey(keys);
    for (size_t start = 0; start < last.size(); start += kMaxStocksPerRequest) {
      std::vector<const StockCommand*> request;
      std::vector<StockItem> body;
      std::vector<size_t> indices;
      for (size_t k = start; k < std::min(last.size(), start + kMaxStocksPerRequest); ++k) {
        request.push_back(all[last[k]]);
        body.push_back({all[last[k]]->chrt_id, all[last[k]]->amount});
        indices.push_back(all[last[k]]->index);
      }
      if (stop) {
        kit::SettleAll(*stop, indices, out);
        continue;
      }
      auto conflicts = client_.PutStocks(warehouse, body);
      if (!conflicts.ok()) {
        if (conflicts.error().kind == ApiError::Kind::kThrottled) stop = conflicts.error();
        kit::SettleAll(conflicts.error(), indices, out);
        continue;
      }
      if (conflicts->empty()) continue;  // 204: every item applied
      // Barcodes no item carries: the table may be old; read it and match again.
      std::lock_guard conflict_lock(sizes_mu_);
      if (!SettleConflicts(*conflicts, request, sizes_, clock_.Now(), out).empty() &&
          !ReadSizes()) {
        SettleConflicts(*conflicts, request, sizes_, clock_.Now(), out);
      }
    }
  }
}

}  // namespace crmhub::adapters::wildberries
