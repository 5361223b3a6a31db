// crm_store_bench: throughput of the embedded CRM store (SqliteCrmStore) on
// the production path: WAL + synchronous=FULL, one transaction per Apply
// batch, ValidateEntity per entity, typed columns, journal, applied_events.
//
//   crm_store_bench [orders] [batch] [dir]
//
// Phases: create N orders (one order per event, like one webhook each), then
// update every order to a newer version (N more journal entries), then
// re-deliver the first phase's events (duplicates: no writes). Prints
// orders/s per phase. The mapping runs in front of the store in production;
// its cost is measured by `crmhub map` benchmarks, not here.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "crm/sqlite_store.h"

namespace {

using crmhub::crm::SinkEvent;

SinkEvent OrderEvent(int64_t i, int64_t version, const char* status) {
  SinkEvent ev;
  ev.source = "ozon-main";
  ev.idempotency_key = "ozon-main:" + std::to_string(i) + ":" + status;
  ev.message_id = i;
  ev.received_at = std::chrono::system_clock::now();
  crmhub::model::Entity e;
  e.kind = crmhub::model::EntityKind::kOrder;
  e.source = "ozon-main";
  e.external_id = "0119028467-" + std::to_string(i);
  e.version = version;
  e.fields = {{"status", status},
              {"number", e.external_id},
              {"total", 100 + i % 100000},
              {"currency", "RUB"},
              {"customer_phone", "+7916" + std::to_string(1000000 + i % 9000000)},
              {"warehouse", "Koledino"},
              {"lines", nlohmann::json::array({{{"sku", "SKU-" + std::to_string(i % 5000)},
                                                {"quantity", 1},
                                                {"price", 100 + i % 100000}}})}};
  ev.entities.push_back(std::move(e));
  return ev;
}

double Run(crmhub::crm::SqliteCrmStore& store, const std::vector<SinkEvent>& events, size_t batch,
           const char* label) {
  auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  for (size_t i = 0; i < events.size(); i += batch) {
    std::vector<SinkEvent> b(events.begin() + i,
                             events.begin() + std::min(events.size(), i + batch));
    for (const auto& o : store.Apply(b)) {
      if (!o.ok()) {
        std::fprintf(stderr, "apply failed: %s\n", o.error.c_str());
        std::exit(1);
      }
    }
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // CPU time (user+sys of this process) too: on a shared, loaded machine the
  // wall clock measures the neighbours as much as the store.
  double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  std::printf("%-26s %8zu orders: wall %6.2f s = %8.0f/s; cpu %6.2f s = %8.0f/s per core\n", label,
              events.size(), s, events.size() / s, cpu, events.size() / cpu);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 100000;
  const size_t batch = argc > 2 ? std::atoll(argv[2]) : 256;
  std::filesystem::path dir =
      argc > 3 ? std::filesystem::path(argv[3])
               : std::filesystem::path("/var/tmp") / ("crm-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  crmhub::SystemClock clock;
  crmhub::crm::SqliteStoreOptions options;
  options.path = dir / "crm.db";
  // CRM_BENCH_NO_VALIDATE=1: without model::ValidateEntity, to see its share.
  options.validate = std::getenv("CRM_BENCH_NO_VALIDATE") == nullptr;
  if (const char* c = std::getenv("CRM_BENCH_CACHE_KIB")) options.cache_kib = std::atoi(c);
  if (const char* c = std::getenv("CRM_BENCH_CHECKPOINT"))
    options.wal_autocheckpoint_pages = std::atoi(c);
  auto store = crmhub::crm::SqliteCrmStore::Open(options, clock);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  std::vector<SinkEvent> create, update;
  for (int64_t i = 0; i < n; ++i) create.push_back(OrderEvent(i, 1, "awaiting_packaging"));
  for (int64_t i = 0; i < n; ++i) update.push_back(OrderEvent(i, 2, "delivering"));
  std::printf("batch %zu, WAL, synchronous=FULL, dir %s\n", batch, dir.c_str());
  Run(**store, create, batch, "create (new orders)");
  Run(**store, update, batch, "update (newer version)");
  Run(**store, create, batch, "re-deliver (duplicates)");
  std::printf("journal entries: %lld\n",
              static_cast<long long>((*store)->JournalSize().value_or(-1)));
  store->reset();
  if (argc <= 3) std::filesystem::remove_all(dir);
  return 0;
}
