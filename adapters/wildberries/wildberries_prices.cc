// WildberriesAdapter::DeliverPrices: set_price commands -> POST
// /api/v2/upload/task, each message settled once WB has processed its task
// (docs/adapters/wildberries.md, "Price upload tasks").

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "adapters/wildberries/wildberries_adapter.h"
#include "base/json_get.h"

namespace crmhub::adapters::wildberries {
namespace {

// HistoryTask / BufferTask status: 3 processed, 4 canceled, 5 errors in
// some goods, 6 errors in all goods. GoodHistory status 3: an error.
constexpr int64_t kTaskProcessed = 3, kTaskCanceled = 4, kTaskPartly = 5, kTaskFailed = 6;
constexpr int64_t kGoodError = 3;

std::optional<int64_t> NmId(const nlohmann::json& item) {
  return CommandInt(item, {"nm_id", "nmID", "nmId"});
}

}  // namespace

void WildberriesAdapter::DeliverPrices(std::span<const Command> batch,
                                       std::span<const kit::TargetCommand> commands,
                                       std::vector<DeliveryOutcome>& out) {
  const SystemTime now = clock_.Now();
  // Messages the queue gave back while their task was pending: the task is
  // read instead of uploading again. Entries of messages that never come
  // back (dead-lettered meanwhile) are dropped after a day.
  std::map<int64_t, std::pair<SystemTime, std::vector<std::pair<size_t, int64_t>>>> checks;
  std::vector<std::string> keys;  // nmIDs of the uploads
  std::vector<std::pair<size_t, PriceGood>> uploads;
  // nm_id as given, else the card's whose vendorCode is the command's sku
  // (the CRM's SKU), the cards read again at most once a call when one is
  // unknown (ReadSizes' own pacing).
  std::vector<std::optional<int64_t>> nms;
  std::vector<std::string> unknown(commands.size());
  bool read = false;
  for (size_t i = 0; i < commands.size(); ++i) {
    std::optional<int64_t> nm = NmId(commands[i].item);
    const std::string sku(JsonString(commands[i].item, "sku").value_or(""));
    if (!nm && !sku.empty()) {
      nm = NmOfSku(sku);
      if (!nm && !read) {
        read = true;
        std::lock_guard lock(sizes_mu_);
        ReadSizes();  // a failed read leaves the SKU unknown: the item fails, saying so
        nm = NmOfSku(sku);
      }
      if (!nm) {
        unknown[i] = kit::UnknownSku("wildberries", "Wildberries", sku,
                                     "/content/v2/get/cards/list", "nm_id");
      }
    }
    nms.push_back(nm);
  }
  {
    std::lock_guard lock(prices_mu_);
    std::erase_if(pending_prices_,
                  [&](const auto& e) { return now - e.second.uploaded > std::chrono::hours(24); });
    for (size_t i = 0; i < commands.size(); ++i) {
      const kit::TargetCommand& c = commands[i];
      const Command& m = batch[c.index];
      const std::optional<int64_t> nm = nms[i];
      auto pending = pending_prices_.find(m.key);
      if (nm && pending != pending_prices_.end() && pending->second.payload == m.payload) {
        auto& check = checks[pending->second.task];
        check.first = pending->second.uploaded;
        check.second.emplace_back(c.index, *nm);
        continue;
      }
      PriceGood g{nm.value_or(0), CommandInt(c.item, {"price"}), CommandInt(c.item, {"discount"})};
      if (!unknown[i].empty()) {
        out[c.index] = DeliveryOutcome::Fail("set_price: " + unknown[i]);
      } else if (!nm) {
        out[c.index] = DeliveryOutcome::Fail(
            "set_price: needs nm_id (the WB article) or sku (its vendorCode)");
      } else if (!g.price && !g.discount) {
        // "Цена и скидка не могут быть пустыми одновременно".
        out[c.index] = DeliveryOutcome::Fail("set_price: needs price and/or discount (integers)");
      } else {
        keys.push_back(std::to_string(*nm));
        uploads.emplace_back(c.index, g);
      }
    }
  }
  for (const auto& [task, check] : checks) {
    CheckPriceTask(task, check.first, batch, check.second, out);
  }
  // WB refuses a request with one nmID twice ("Duplicate item Nos."): the
  // newest command is sent, earlier ones are superseded by it (Ok).
  const std::vector<size_t> last = kit::LastPerKey(keys);
  for (size_t start = 0; start < last.size(); start += kMaxGoodsPerUpload) {
    const size_t end = std::min(last.size(), start + kMaxGoodsPerUpload);
    std::vector<PriceGood> goods;
    for (size_t k = start; k < end; ++k) goods.push_back(uploads[last[k]].second);
    auto task = client_.UploadPrices(goods);
    DeliveryOutcome outcome = DeliveryOutcome::Ok();
    if (!task.ok()) {
      // "The specified prices and discounts are already set": nothing to
      // change. "All item Nos. are specified incorrectly, or ... already
      // set" cannot be told apart: it fails.
      const std::string& text = task.error().message;
      const bool already = task.error().http_status == 400 &&
                           text.find("already set") != std::string::npos &&
                           text.find("incorrectly") == std::string::npos;
      if (!already) outcome = task.error().ToOutcome();
    } else {
      // Accepted as a task (208: the same task again): settled once WB has
      // processed it.
      std::lock_guard lock(prices_mu_);
      for (size_t k = start; k < end; ++k) {
        const Command& m = batch[uploads[last[k]].first];
        pending_prices_[m.key] = {*task, m.payload, now};
      }
      outcome = DeliveryOutcome::Retry(
          fmt::format("wildberries: price task {} accepted; waiting for its result", *task),
          NextPriceCheck(now));
    }
    for (size_t k = start; k < end; ++k) out[uploads[last[k]].first] = outcome;
  }
}

SystemTime WildberriesAdapter::NextPriceCheck(SystemTime uploaded) const {
  auto age = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now() - uploaded);
  return clock_.Now() + std::clamp(age / 2, config_.price_check_first, config_.price_check_max);
}

void WildberriesAdapter::CheckPriceTask(int64_t task, SystemTime uploaded,
                                        std::span<const Command> batch,
                                        const std::vector<std::pair<size_t, int64_t>>& items,
                                        std::vector<DeliveryOutcome>& out) {
  const std::string name = fmt::format("wildberries: price task {}", task);
  // Settles an item (its task is done with), or keeps it pending.
  auto settle = [&](size_t i, DeliveryOutcome o, bool pending = false) {
    out[i] = std::move(o);
    std::lock_guard lock(prices_mu_);
    if (!pending) pending_prices_.erase(batch[i].key);
  };
  auto all = [&](const DeliveryOutcome& o, bool pending) {
    for (const auto& [i, nm] : items) settle(i, o, pending);
  };
  auto wait = [&](const std::string& why, std::optional<SystemTime> at = std::nullopt) {
    all(DeliveryOutcome::Retry(name + ": " + why, at ? at : NextPriceCheck(uploaded)), true);
  };
  // The task's goods by nmID; false when a page could not be read (the
  // items stay pending).
  auto read_goods = [&](TaskList list, std::multimap<int64_t, PriceGoodResult>& by_nm) {
    for (int64_t offset = 0;; offset += kMaxTaskGoodsPage) {
      auto page = client_.PriceTaskGoods(list, task, kMaxTaskGoodsPage, offset);
      if (!page.ok()) wait(page.error().message, page.error().not_before);
      if (!page.ok()) return false;
      for (PriceGoodResult& g : *page) by_nm.emplace(g.nm_id, std::move(g));
      if (page->size() < static_cast<size_t>(kMaxTaskGoodsPage)) return true;
    }
  };
  // A lookup that failed as a whole (throttled, 5xx...) keeps the items
  // pending; a rejected one means WB does not know the task in that list.
  auto failed = [&](const ApiError& e) {
    if (e.kind == ApiError::Kind::kRejected || e.kind == ApiError::Kind::kNotFound) return false;
    wait(e.message, e.not_before);
    return true;
  };

  auto history = client_.PriceTaskStatus(TaskList::kHistory, task);
  if (!history.ok() && failed(history.error())) return;
  if (history.ok() && *history) {
    const int64_t status = **history;
    if (status == kTaskProcessed) return all(DeliveryOutcome::Ok(), false);
    if (status == kTaskCanceled) {
      return all(DeliveryOutcome::Retry(name + " was canceled by WB; uploading again"), false);
    }
    if (status != kTaskPartly && status != kTaskFailed) {
      return wait(fmt::format("unknown task status {}", status));
    }
    std::multimap<int64_t, PriceGoodResult> goods;
    if (!read_goods(TaskList::kHistory, goods)) return;
    for (const auto& [i, nm] : items) {
      auto [first, end] = goods.equal_range(nm);
      const PriceGoodResult* error = nullptr;
      for (auto it = first; it != end; ++it) {
        if (it->second.status == kGoodError || !it->second.error_text.empty()) error = &it->second;
      }
      if (first == end) {
        // Not in the task's details: the outcome is unknown, send it again.
        settle(i, DeliveryOutcome::Retry(fmt::format(
                      "{} (status {}) does not list nmID {}; uploading again", name, status, nm)));
      } else if (error != nullptr) {
        settle(i, DeliveryOutcome::Fail(fmt::format(
                      "{}: nmID {}: {}", name, nm,
                      error->error_text.empty() ? "rejected without a text" : error->error_text)));
      } else {
        settle(i, DeliveryOutcome::Ok());
      }
    }
    return;
  }

  auto buffer = client_.PriceTaskStatus(TaskList::kBuffer, task);
  if (!buffer.ok() && failed(buffer.error())) return;
  const bool in_buffer = buffer.ok() && buffer->has_value();
  if (clock_.Now() - uploaded < config_.price_task_wait) {
    return wait(in_buffer ? "in processing" : "not listed yet");
  }
  if (!in_buffer) {
    return all(
        DeliveryOutcome::Retry(fmt::format(
            "{} unknown to WB after {} s; uploading again", name,
            std::chrono::duration_cast<std::chrono::seconds>(config_.price_task_wait).count())),
        false);
  }
  // Still in the buffer after price_task_wait (e.g. a discount waiting for a
  // promotion to start): WB holds it; what it already rejected fails.
  std::multimap<int64_t, PriceGoodResult> goods;
  if (!read_goods(TaskList::kBuffer, goods)) return;
  for (const auto& [i, nm] : items) {
    std::string error;
    for (auto [it, end] = goods.equal_range(nm); it != end; ++it) {
      if (!it->second.error_text.empty()) error = it->second.error_text;
    }
    settle(i, error.empty()
                  ? DeliveryOutcome::Ok()
                  : DeliveryOutcome::Fail(fmt::format("{}: nmID {}: {}", name, nm, error)));
  }
}

}  // namespace crmhub::adapters::wildberries
