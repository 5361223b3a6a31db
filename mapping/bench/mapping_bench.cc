#include "mapping/bench/mapping_bench.h"

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "mapping/rules/rule_set.h"

namespace crmhub::mapping::bench {
namespace {

// Shaped like a marketplace order (Ozon FBS posting); exercises maps,
// money/phone/timestamp transforms, a for_each of lines and three entities.
constexpr std::string_view kRules = R"(
format = 1
name = "bench-orders"
[[skip_if]]
path = "/is_test"
equals = true
[maps.stage]
awaiting_packaging = "new"
awaiting_deliver = "assembly"
delivering = "in_delivery"
delivered = "won"
cancelled = "lost"
[[entity]]
rule = "order"
kind = "order"
external_id = "/posting_number"
version = { path = "/in_process_at", transform = "timestamp_ms" }
[entity.fields]
status = { path = "/status", transform = "trim" }
number = "/order_number"
created_ms = { path = "/in_process_at", transform = "timestamp_ms" }
currency = { path = "/financial_data/currency_code", transform = "currency", default = "RUB" }
total = { path = "/financial_data/total", transform = "money" }
customer_name = { path = "/customer/name", transform = ["trim", "collapse_spaces"] }
customer_phone = { path = "/customer/phone", transform = "phone", on_invalid = "null" }
customer_email = { path = "/customer/email", transform = "email", on_invalid = "null" }
warehouse = { path = "/delivery_method/warehouse", transform = "string" }
channel = { value = "ozon" }
lines = { for_each = "/products", fields = { sku = { path = "/offer_id", required = true }, quantity = { path = "/quantity", transform = "int" }, price = { path = "/price", transform = "money" }, name = "/name", offer_id = { path = "/sku", transform = "string" } } }
[[entity]]
rule = "contact"
kind = "contact"
external_id = { path = "/customer/customer_id", transform = "string" }
version = { path = "/in_process_at", transform = "timestamp_ms" }
[entity.fields]
name = { path = "/customer/name", transform = ["trim", "collapse_spaces"] }
phone = { path = "/customer/phone", transform = "phone", on_invalid = "null" }
email = { path = "/customer/email", transform = "email", on_invalid = "null" }
[[entity]]
rule = "deal"
kind = "deal"
external_id = "/posting_number"
version = { path = "/in_process_at", transform = "timestamp_ms" }
[entity.fields]
stage = { path = "/status", map = "stage", map_default = "new" }
amount = { path = "/financial_data/total", transform = "money" }
currency = { path = "/financial_data/currency_code", transform = "currency", default = "RUB" }
order_external_id = "/posting_number"
contact_external_id = { path = "/customer/customer_id", transform = "string" }
)";

constexpr std::string_view kRecord = R"({
  "posting_number": "05708065-0029-1", "order_number": "05708065-0029", "status": "awaiting_packaging",
  "in_process_at": "2024-05-14T07:42:31.123Z", "is_test": false,
  "delivery_method": {"id": 15110442724000, "name": "Ozon Логистика курьеру, Москва", "warehouse": 15110442724000},
  "customer": {"customer_id": 60006, "name": "  Иван  Петров ", "phone": "+7 (916) 123-45-67", "email": "Ivan@Example.ru"},
  "financial_data": {"currency_code": "RUB", "total": "5 997.00"},
  "products": [
    {"offer_id": "SKU-RED-42", "name": "Кроссовки красные, 42", "quantity": 1, "price": "2999.00", "sku": 1087654321},
    {"offer_id": "SKU-SOCK-3", "name": "Носки, 3 пары", "quantity": 2, "price": "499.50", "sku": 1087654322},
    {"offer_id": "SKU-LACE", "name": "Шнурки", "quantity": 1, "price": "1999", "sku": 1087654323}
  ]
})";

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot read " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace

Result<MappingBenchResult> RunMappingBench(const MappingBenchOptions& o) {
  if (o.records <= 0 || o.threads <= 0)
    return Status::InvalidArgument("records and threads must be positive");
  Result<RuleSet> rules =
      o.rules_path.empty() ? ParseRules(kRules, "bench-orders.toml") : LoadRules(o.rules_path);
  if (!rules.ok()) return rules.status();
  std::string record(kRecord);
  if (!o.record_path.empty()) {
    auto text = ReadFile(o.record_path);
    if (!text.ok()) return text.status();
    record = std::move(*text);
  }
  ApplyContext ctx{"bench", nullptr, 1700000000000};
  auto probe = rules->ApplyText(record, ctx);  // fail fast, before timing
  if (!probe.ok()) return probe.status();

  std::atomic<int64_t> entities{0};
  std::atomic<bool> failed{false};
  const int64_t per_thread = (o.records + o.threads - 1) / o.threads;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < o.threads; ++t) {
    workers.emplace_back([&] {
      int64_t produced = 0;
      for (int64_t i = 0; i < per_thread; ++i) {
        auto out = rules->ApplyText(record, ctx);
        if (!out.ok()) {
          failed = true;
          return;
        }
        produced += static_cast<int64_t>(out->size());
      }
      entities += produced;
    });
  }
  for (auto& w : workers) w.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (failed) return Status::Internal("a record failed to map during the run");
  MappingBenchResult r;
  r.records = per_thread * o.threads;
  r.entities = entities;
  r.seconds = seconds;
  r.records_per_second = seconds > 0 ? static_cast<double>(r.records) / seconds : 0;
  return r;
}

std::string FormatMappingBench(const MappingBenchOptions& o, const MappingBenchResult& r,
                               bool json) {
  if (json) {
    nlohmann::json j = {
        {"bench", "mapping"},   {"threads", o.threads},
        {"records", r.records}, {"entities", r.entities},
        {"seconds", r.seconds}, {"records_per_second", static_cast<int64_t>(r.records_per_second)}};
    return j.dump();
  }
  std::ostringstream os;
  os << "mapping: " << r.records << " records -> " << r.entities << " entities on " << o.threads
     << " thread(s) in " << r.seconds << " s: " << static_cast<int64_t>(r.records_per_second)
     << " records/s (raw JSON text -> validated canonical entities)";
  return os.str();
}

}  // namespace crmhub::mapping::bench
