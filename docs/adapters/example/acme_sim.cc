#include "docs/adapters/example/acme_sim.h"

#include <algorithm>

#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::acme {
namespace {

using nlohmann::json;

constexpr const char* kStatuses[] = {"new", "paid", "shipped"};

net::HttpResponse AcmeError(int status, std::string_view message) {
  const char* code = status == 429 ? "rate_limited" : status >= 500 ? "internal" : "bad_request";
  return net::HttpResponse::Json(status,
                                 json{{"error", {{"code", code}, {"message", message}}}}.dump());
}

std::string Status(const simkit::WalkStep& step) {
  return step.status == simkit::WalkStep::kCancelled ? "cancelled" : kStatuses[step.status];
}

}  // namespace

AcmeSimulator::AcmeSimulator(simkit::SimOptions options, Clock& clock)
    : PipelineSimulator(options.io_threads),
      options_(std::move(options)),
      clock_(clock),
      pipeline_(
          [this] {
            // [sim-pipeline]
            simkit::SimPipeline::Options o = CommonOptions(options_, /*salt=*/0xac3e);
            o.dialect.server_header = "acme-sim";
            o.dialect.auth_headers = {"Authorization"};
            o.dialect.accepted = {{"Bearer " + token(), "acme"}};
            o.dialect.unauthorized = [](bool) { return AcmeError(401, "bad or missing token"); };
            o.dialect.error = AcmeError;
            o.dialect.throttled = [](const simkit::LimitRefusal& r) {
              auto answer = AcmeError(429, "10 requests a second");
              answer.headers.Set(
                  "Retry-After",
                  std::to_string(std::max<int64_t>(
                      1, std::chrono::ceil<std::chrono::seconds>(r.retry_after).count())));
              return answer;
            };
            // The spec's limit, read again here: 10 requests a second.
            o.limits = {simkit::SimPipeline::Limit::Window("all", 10, std::chrono::seconds(1))};
            o.routes = {
                {.method = "GET",
                 .path = "/v1/orders",
                 .limits = {"all"},
                 .handler = [this](const simkit::SimRequest& r) { return ListOrders(r); }},
                {.method = "GET",
                 .path = "/v1/orders/{}",
                 .limits = {"all"},
                 .handler = [this](const simkit::SimRequest& r) { return GetOrder(r); }},
                {.method = "PUT",
                 .path = "/v1/stock",
                 .limits = {"all"},
                 .json_body = true,
                 .handler = [this](const simkit::SimRequest& r) { return PutStock(r); }},
            };
            return o;
            // [sim-pipeline]
          }(),
          clock) {
  simkit::CreateOrders(options_, clock_, [&](int i, SystemTime created, simkit::SeededRng& rng) {
    Order order{"A-" + std::to_string(i + 1), simkit::Walk(rng, created, 3, options_.lifetime / 2,
                                                           std::chrono::milliseconds(1), 0.1)};
    all_final_at_ = std::max(all_final_at_, order.steps.back().at);
    orders_.push_back(std::move(order));
  });
}

std::string AcmeSimulator::token() const {
  return options_.credentials.empty() ? "acme-token" : options_.credentials.front();
}

json AcmeSimulator::OrderJson(const Order& order, size_t step) const {
  return {{"id", order.id},
          {"status", Status(order.steps[step])},
          {"updated_at", FormatTimestamp(order.steps[step].at, TimestampStyle::kRfc3339Millis, 0)},
          {"total", "12.50"}};
}

net::HttpResponse AcmeSimulator::ListOrders(const simkit::SimRequest& request) const {
  const std::optional<std::string> after_text = request.http.QueryParam("updated_after");
  const std::optional<SystemTime> after =
      after_text ? ParseTimestamp(*after_text, kNoDefaultOffset) : std::nullopt;
  if (!after) return AcmeError(400, "updated_after must be an RFC 3339 time");
  const std::optional<std::string> limit_text = request.http.QueryParam("limit");
  const std::optional<int64_t> limit = limit_text ? ParseDecimalInt(*limit_text) : 100;
  if (!limit || *limit < 1 || *limit > 100) return AcmeError(400, "limit must be 1..100");
  const SystemTime now = clock_.Now();
  // Every order's current state changed after `after`, oldest change first.
  std::vector<std::pair<SystemTime, json>> changed;
  for (const Order& order : orders_) {
    if (order.steps.front().at > now) continue;
    const size_t step = simkit::StepAt(order.steps, now, [](const auto& s) { return s.at; });
    if (order.steps[step].at > *after)
      changed.emplace_back(order.steps[step].at, OrderJson(order, step));
  }
  std::stable_sort(changed.begin(), changed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  json page = json::array();
  for (size_t i = 0; i < changed.size() && i < static_cast<size_t>(*limit); ++i) {
    page.push_back(changed[i].second);
  }
  return net::HttpResponse::Json(
      200, json{{"orders", page}, {"has_more", changed.size() > page.size()}}.dump());
}

net::HttpResponse AcmeSimulator::GetOrder(const simkit::SimRequest& request) const {
  const SystemTime now = clock_.Now();
  for (const Order& order : orders_) {
    if (order.id != request.params[0] || order.steps.front().at > now) continue;
    const size_t step = simkit::StepAt(order.steps, now, [](const auto& s) { return s.at; });
    return net::HttpResponse::Json(200, OrderJson(order, step).dump());
  }
  return AcmeError(404, "no such order");
}

net::HttpResponse AcmeSimulator::PutStock(const simkit::SimRequest& request) {
  const json* items = JsonArray(request.body, "items");
  if (items == nullptr || items->empty() || items->size() > 100) {
    return AcmeError(400, "items must hold 1..100 entries");
  }
  std::map<std::string, int64_t> update;
  for (const json& item : *items) {
    std::optional<std::string_view> sku = JsonString(item, "sku");
    std::optional<int64_t> quantity = JsonInt(item, "quantity");
    if (!sku || sku->empty() || !quantity || *quantity < 0) {
      return AcmeError(400, "each item needs a sku and a quantity >= 0");
    }
    if (!update.emplace(std::string(*sku), *quantity).second) {
      return AcmeError(400, "skus must be distinct within a request");
    }
  }
  std::lock_guard lock(mu_);
  for (const auto& [sku, quantity] : update) stock_[sku] = quantity;
  return net::HttpResponse::Text(204, "");
}

std::string AcmeSimulator::StateJson() const {
  std::lock_guard lock(mu_);
  return json{{"orders", OrderStatuses(false)}, {"stock", stock_}}.dump();
}

std::map<std::string, std::string> AcmeSimulator::OrderStatuses(bool final_only) const {
  std::map<std::string, std::string> out;
  const SystemTime now = clock_.Now();
  for (const Order& order : orders_) {
    if (final_only) {
      out[order.id] = Status(order.steps.back());
    } else if (order.steps.front().at <= now) {
      out[order.id] =
          Status(order.steps[simkit::StepAt(order.steps, now, [](const auto& s) { return s.at; })]);
    }
  }
  return out;
}

std::vector<nlohmann::json> AcmeSimulator::StockCommandItems(int n, int64_t stock) const {
  std::vector<json> items;
  for (int i = 1; i <= n; ++i)
    items.push_back({{"sku", "SKU-" + std::to_string(i)}, {"stock", stock}});
  return items;
}

int64_t AcmeSimulator::StockItemsAt(int n, int64_t stock) const {
  std::lock_guard lock(mu_);
  int64_t held = 0;
  for (int i = 1; i <= n; ++i) {
    auto it = stock_.find("SKU-" + std::to_string(i));
    held += it != stock_.end() && it->second == stock;
  }
  return held;
}

simkit::AdapterWiring AcmeSimulator::Wiring() const {
  simkit::AdapterWiring w;
  w.type = "acme";
  w.keys = "base_url = " + simkit::TomlString(base_url()) + "\n";
  w.secrets = {{"token_file", token()}, {"webhook_secret_file", "acme-webhook-secret"}};
  w.orders_method = "GET";
  w.orders_path = "/v1/orders";
  return w;
}

simkit::SimulatorType AcmeSimulatorType() {
  return {.name = "acme",
          .description = "the example adapter's made-up shop API",
          .url_key = "base_url",
          .create = [](const simkit::SimOptions& o,
                       Clock& clock) -> Result<std::unique_ptr<simkit::Simulator>> {
            return std::unique_ptr<simkit::Simulator>(std::make_unique<AcmeSimulator>(o, clock));
          }};
}

}  // namespace crmhub::adapters::acme
