// WildberriesAdapter::Deliver: set_stock and set_price commands (see the
// contract in adapter.h).

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adapters/wildberries/adapter.h"

namespace crmhub::adapters::wildberries {
namespace {

using nlohmann::json;

std::string_view HeaderOf(const queue::Message& m, std::string_view name) {
  for (const auto& [k, v] : m.headers) {
    if (k == name) return v;
  }
  return {};
}

// An integer given as a JSON number or a decimal string ("507").
std::optional<int64_t> IntField(const json& j, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) continue;
    if (it->is_number_integer()) return it->get<int64_t>();
    if (it->is_string()) {
      const std::string& s = it->get_ref<const std::string&>();
      if (s.empty() || s.size() > 18) return std::nullopt;
      for (char ch : s) {
        if (ch < '0' || ch > '9') return std::nullopt;
      }
      return std::stoll(s);
    }
    return std::nullopt;
  }
  return std::nullopt;
}

// A failure of a whole request as one outcome for each of its items.
DeliveryOutcome OutcomeOf(const ApiError& e) {
  switch (e.kind) {
    case ApiError::Kind::kThrottled:
    case ApiError::Kind::kTransient:
    case ApiError::Kind::kAuth:  // fixed by ops (token), then the retry succeeds
      return DeliveryOutcome::Retry("wildberries: " + e.message, e.not_before);
    case ApiError::Kind::kRejected:
      return DeliveryOutcome::Fail("wildberries: " + e.message);
  }
  return DeliveryOutcome::Retry(e.message);
}

}  // namespace

std::vector<DeliveryOutcome> WildberriesAdapter::Deliver(std::span<const queue::Message> batch) {
  std::vector<DeliveryOutcome> out(batch.size(), DeliveryOutcome::Ok());
  std::vector<size_t> stocks, prices;
  for (size_t i = 0; i < batch.size(); ++i) {
    std::string_view command = HeaderOf(batch[i], "command");
    if (command == "set_stock") {
      stocks.push_back(i);
    } else if (command == "set_price") {
      prices.push_back(i);
    } else {
      out[i] = DeliveryOutcome::Fail(
          fmt::format("wildberries: unsupported command \"{}\" (set_stock, set_price)", command));
    }
  }
  if (!stocks.empty()) DeliverStocks(batch, stocks, out);
  if (!prices.empty()) DeliverPrices(batch, prices, out);
  return out;
}

void WildberriesAdapter::DeliverStocks(std::span<const queue::Message> batch,
                                       const std::vector<size_t>& indexes,
                                       std::vector<DeliveryOutcome>& out) {
  // warehouse -> (message index, item); the last value for a SKU wins within
  // a request (the spec does not say what WB does with repeats).
  std::map<int64_t, std::vector<std::pair<size_t, StockItem>>> groups;
  for (size_t i : indexes) {
    json item = json::parse(batch[i].payload, nullptr, false);
    if (item.is_discarded() || !item.is_object()) {
      out[i] = DeliveryOutcome::Fail("set_stock: payload is not a JSON object");
      continue;
    }
    auto warehouse = IntField(item, {"warehouse_id", "warehouseId"});
    if (!warehouse) {
      out[i] = DeliveryOutcome::Fail("set_stock: warehouse_id missing or not an integer");
      continue;
    }
    if (!options_.warehouses.empty() && !options_.warehouses.count(*warehouse)) {
      out[i] = DeliveryOutcome::Fail(fmt::format(
          "set_stock: warehouse {} is not in this adapter's warehouses", *warehouse));
      continue;
    }
    StockItem s;
    s.chrt_id = IntField(item, {"chrt_id", "chrtId"});
    if (item.contains("sku") && item["sku"].is_string() && !item["sku"].get<std::string>().empty()) {
      s.sku = item["sku"].get<std::string>();
    }
    if (!s.sku && !s.chrt_id) {
      out[i] = DeliveryOutcome::Fail("set_stock: needs sku (barcode) or chrt_id");
      continue;
    }
    auto amount = IntField(item, {"amount"});
    if (!amount || *amount < 0 || *amount > 100000) {
      out[i] = DeliveryOutcome::Fail("set_stock: amount must be an integer 0..100000");
      continue;
    }
    s.amount = *amount;
    groups[*warehouse].emplace_back(i, std::move(s));
  }

  std::optional<ApiError> stop;  // once throttled, the rest waits too
  for (auto& [warehouse, items] : groups) {
    for (size_t start = 0; start < items.size(); start += 1000) {
      size_t end = std::min(items.size(), start + 1000);
      if (stop) {
        for (size_t k = start; k < end; ++k) out[items[k].first] = OutcomeOf(*stop);
        continue;
      }
      std::vector<StockItem> request;
      for (size_t k = start; k < end; ++k) request.push_back(items[k].second);
      auto r = client_.PutStocks(warehouse, request);
      if (!r.ok()) {
        if (r.error.kind == ApiError::Kind::kThrottled) stop = r.error;
        for (size_t k = start; k < end; ++k) out[items[k].first] = OutcomeOf(r.error);
        continue;
      }
      if (r.value->applied) continue;  // all Ok
      // 409: per-item errors by barcode.
      std::map<std::string, std::string> failed;  // sku -> "code: message"
      bool whole = false;
      std::string whole_error;
      for (const auto& e : r.value->errors) {
        std::string text = fmt::format("{}: {}", e.code, e.message);
        if (e.skus.empty()) {
          whole = true;
          whole_error = text;
        }
        for (const auto& sku : e.skus) failed[sku] = text;
      }
      for (size_t k = start; k < end; ++k) {
        const StockItem& s = items[k].second;
        auto f = s.sku ? failed.find(*s.sku) : failed.end();
        if (f != failed.end()) {
          out[items[k].first] = DeliveryOutcome::Fail("wildberries 409 " + f->second);
        } else {
          out[items[k].first] = DeliveryOutcome::Retry(
              whole ? "wildberries 409 " + whole_error
                    : "wildberries 409 for other items of the request; sent again");
        }
      }
    }
  }
}

void WildberriesAdapter::DeliverPrices(std::span<const queue::Message> batch,
                                       const std::vector<size_t>& indexes,
                                       std::vector<DeliveryOutcome>& out) {
  const SystemTime now = clock_.Now();
  // Messages the queue gave back while their task was pending: read the task
  // instead of uploading again. Entries of messages that never come back
  // (dead-lettered meanwhile) are dropped after a day.
  std::map<int64_t, std::pair<SystemTime, std::vector<size_t>>> checks;  // task -> items
  std::vector<size_t> uploads;
  {
    std::lock_guard lock(prices_mu_);
    std::erase_if(pending_prices_,
                  [&](const auto& e) { return now - e.second.uploaded > std::chrono::hours(24); });
    for (size_t i : indexes) {
      auto it = pending_prices_.find(batch[i].id);
      if (it != pending_prices_.end() && it->second.payload == batch[i].payload) {
        auto& c = checks[it->second.task];
        c.first = it->second.uploaded;
        c.second.push_back(i);
      } else {
        uploads.push_back(i);
      }
    }
  }
  for (const auto& [task, c] : checks) CheckPriceTask(task, c.first, batch, c.second, out);

  // WB refuses a request with the same nmID twice ("Duplicate item Nos."):
  // the last one in the batch is sent, earlier ones are superseded by it.
  std::map<int64_t, std::pair<size_t, PriceGood>> by_nm;
  std::vector<int64_t> order;
  for (size_t i : uploads) {
    json item = json::parse(batch[i].payload, nullptr, false);
    if (item.is_discarded() || !item.is_object()) {
      out[i] = DeliveryOutcome::Fail("set_price: payload is not a JSON object");
      continue;
    }
    PriceGood g;
    auto nm = IntField(item, {"nm_id", "nmID", "nmId"});
    if (!nm) {
      out[i] = DeliveryOutcome::Fail("set_price: needs nm_id (the WB article)");
      continue;
    }
    g.nm_id = *nm;
    g.price = IntField(item, {"price"});
    g.discount = IntField(item, {"discount"});
    if (!g.price && !g.discount) {
      out[i] = DeliveryOutcome::Fail("set_price: needs price and/or discount (integers)");
      continue;
    }
    auto [it, inserted] = by_nm.try_emplace(*nm, i, g);
    if (!inserted) {
      out[it->second.first] = DeliveryOutcome::Ok();  // superseded by a newer one
      it->second = {i, g};
    } else {
      order.push_back(*nm);
    }
  }
  for (size_t start = 0; start < order.size(); start += 1000) {
    size_t end = std::min(order.size(), start + 1000);
    std::vector<PriceGood> goods;
    for (size_t k = start; k < end; ++k) goods.push_back(by_nm[order[k]].second);
    auto r = client_.UploadPrices(goods);
    DeliveryOutcome outcome = DeliveryOutcome::Ok();
    if (!r.ok()) {
      std::string text = r.error.body.is_object() ? r.error.body.value("errorText", "") : "";
      if (r.error.http_status == 400 && text.find("already set") != std::string::npos &&
          text.find("incorrectly") == std::string::npos) {
        outcome = DeliveryOutcome::Ok();  // nothing to change
      } else {
        outcome = OutcomeOf(r.error);
      }
    } else if (r.value->id > 0) {
      // Accepted as a task (208: the same task again): settled once its
      // result is known.
      std::lock_guard lock(prices_mu_);
      for (size_t k = start; k < end; ++k) {
        const queue::Message& m = batch[by_nm[order[k]].first];
        pending_prices_[m.id] = {r.value->id, m.payload, now};
      }
      outcome = DeliveryOutcome::Retry(
          fmt::format("wildberries: price task {} accepted; waiting for its result", r.value->id),
          NextPriceCheck(now));
    }
    for (size_t k = start; k < end; ++k) out[by_nm[order[k]].first] = outcome;
  }
}

SystemTime WildberriesAdapter::NextPriceCheck(SystemTime uploaded) const {
  auto age = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now() - uploaded);
  auto wait = std::clamp(age / 2, options_.price_check_first, options_.price_check_max);
  return clock_.Now() + wait;
}

void WildberriesAdapter::CheckPriceTask(int64_t task, SystemTime uploaded,
                                        std::span<const queue::Message> batch,
                                        const std::vector<size_t>& items,
                                        std::vector<DeliveryOutcome>& out) {
  const bool overdue = clock_.Now() - uploaded >= options_.price_task_wait;
  auto settle = [&](size_t i, DeliveryOutcome o) {
    out[i] = std::move(o);
    std::lock_guard lock(prices_mu_);
    pending_prices_.erase(batch[i].id);
  };
  auto all = [&](const DeliveryOutcome& o, bool keep_pending) {
    for (size_t i : items) {
      if (keep_pending) {
        out[i] = o;
      } else {
        settle(i, o);
      }
    }
  };
  auto wait = [&](std::string why) {
    all(DeliveryOutcome::Retry(fmt::format("wildberries: price task {}: {}", task, why),
                               NextPriceCheck(uploaded)),
        /*keep_pending=*/true);
  };
  // The task's goods by nmID; false when a page could not be read (the
  // items stay pending and are checked again).
  auto read_goods = [&](TaskList list, std::map<int64_t, std::vector<PriceGoodResult>>& by_nm) {
    constexpr int kPage = 1000;  // the limit parameter's maximum
    for (int64_t offset = 0;; offset += kPage) {
      auto page = client_.GetPriceTaskGoods(list, task, kPage, offset);
      if (!page.ok()) {
        all(DeliveryOutcome::Retry("wildberries: price task " + std::to_string(task) + ": " +
                                       page.error.message,
                                   page.error.not_before),
            /*keep_pending=*/true);
        return false;
      }
      for (auto& g : *page.value) by_nm[g.nm_id].push_back(std::move(g));
      if (page.value->size() < static_cast<size_t>(kPage)) return true;
    }
  };
  // A lookup that failed as a whole (throttled, 5xx...) keeps the items
  // pending; a 4xx means WB does not know the task under this list.
  auto failed = [&](const ApiError& e) {
    if (e.kind == ApiError::Kind::kRejected) return false;
    all(DeliveryOutcome::Retry("wildberries: price task " + std::to_string(task) + ": " + e.message,
                               e.not_before),
        /*keep_pending=*/true);
    return true;
  };

  auto history = client_.GetPriceTask(TaskList::kHistory, task);
  if (!history.ok() && failed(history.error)) return;
  if (history.ok() && *history.value) {
    const int status = (*history.value)->status;
    if (status == 3) return all(DeliveryOutcome::Ok(), false);
    if (status == 4) {
      // Canceled as a whole: upload again on the next delivery.
      return all(DeliveryOutcome::Retry(fmt::format(
                     "wildberries: price task {} was canceled by WB; uploading again", task)),
                 false);
    }
    if (status != 5 && status != 6) return wait(fmt::format("unknown task status {}", status));
    std::map<int64_t, std::vector<PriceGoodResult>> goods;
    if (!read_goods(TaskList::kHistory, goods)) return;
    for (size_t i : items) {
      auto nm = IntField(json::parse(batch[i].payload, nullptr, false), {"nm_id", "nmID", "nmId"});
      auto it = nm ? goods.find(*nm) : goods.end();
      if (it == goods.end()) {
        // Not in the task's details: the outcome is unknown, send it again.
        settle(i, DeliveryOutcome::Retry(fmt::format(
                      "wildberries: price task {} (status {}) does not list nmID {}; uploading "
                      "again", task, status, nm.value_or(0))));
        continue;
      }
      const PriceGoodResult* error = nullptr;
      for (const auto& g : it->second) {
        if (g.status == 3 || !g.error_text.empty()) error = &g;
      }
      if (error) {
        settle(i, DeliveryOutcome::Fail(fmt::format(
                      "wildberries: price task {}: nmID {}: {}", task, error->nm_id,
                      error->error_text.empty() ? "rejected without a text" : error->error_text)));
      } else {
        settle(i, DeliveryOutcome::Ok());
      }
    }
    return;
  }

  auto buffer = client_.GetPriceTask(TaskList::kBuffer, task);
  if (!buffer.ok() && failed(buffer.error)) return;
  const bool in_buffer = buffer.ok() && *buffer.value;
  if (!overdue) return wait(in_buffer ? "in processing" : "not listed yet");
  if (!in_buffer) {
    return all(DeliveryOutcome::Retry(fmt::format(
                   "wildberries: price task {} unknown to WB after {} s; uploading again", task,
                   std::chrono::duration_cast<std::chrono::seconds>(options_.price_task_wait)
                       .count())),
               false);
  }
  // Still in the buffer after price_task_wait (e.g. a discount waiting for a
  // promotion to start): WB holds it; what it already rejected fails.
  std::map<int64_t, std::vector<PriceGoodResult>> goods;
  if (!read_goods(TaskList::kBuffer, goods)) return;
  for (size_t i : items) {
    auto nm = IntField(json::parse(batch[i].payload, nullptr, false), {"nm_id", "nmID", "nmId"});
    auto it = nm ? goods.find(*nm) : goods.end();
    std::string error;
    if (it != goods.end()) {
      for (const auto& g : it->second) {
        if (!g.error_text.empty()) error = g.error_text;
      }
    }
    settle(i, error.empty() ? DeliveryOutcome::Ok()
                            : DeliveryOutcome::Fail(fmt::format(
                                  "wildberries: price task {}: nmID {}: {}", task, *nm, error)));
  }
}

}  // namespace crmhub::adapters::wildberries
