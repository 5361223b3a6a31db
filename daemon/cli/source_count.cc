#include "daemon/cli/source_count.h"

#include <fmt/format.h>

#include <set>
#include <thread>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "adapters/kit/payment_lookup.h"
#include "base/metrics.h"
#include "daemon/adapter_registry.h"
#include "daemon/pipeline.h"
#include "daemon/queued_events.h"
#include "daemon/runtime.h"
#include "daemon/runtime_build.h"
#include "net/http_client.h"

namespace crmhub::cli {
namespace {

constexpr size_t kMissingShown = 10;

// What `mapper` makes of `e` as the daemon would queue it from adapter
// `id`; nullopt for a hint (it names records; it is not one itself).
std::optional<Result<std::vector<model::Entity>>> MapRecord(adapters::InboundEvent e,
                                                            const std::string& id,
                                                            const daemon::RecordMapper& mapper,
                                                            Clock& clock) {
  queue::NewMessage m = daemon::ToNewMessage(std::move(e), daemon::InboundLane(id), id);
  queue::Message message;
  message.lane = m.lane;
  message.source = m.source;
  message.idempotency_key = m.idempotency_key;
  message.ordering_key = m.ordering_key;
  message.headers = m.headers;
  message.payload = m.payload;
  message.created_at = clock.Now();
  if (daemon::IsHint(message)) return std::nullopt;
  return mapper(message);
}

std::string StatusOf(const model::Entity& entity) {
  const auto it = entity.fields.find("status");
  return it != entity.fields.end() && it->is_string() ? it->get<std::string>() : "<none>";
}

// Looks each payment of adapter `id` in crm.db up at the provider and sets
// the provider's status (through the adapter's rules) beside the stored.
void CompareProvider(const std::string& id, adapters::kit::PaymentLookup& lookup,
                     const daemon::RecordMapper& mapper, crm::SqliteCrmStore& store, Clock& clock,
                     const SourceCountOptions& options, SourceCount& row) {
  row.provider_asked = true;
  Result<std::vector<crm::StoredEntity>> all = store.AllEntities();
  if (!all.ok()) {
    row.note = "crm.db: " + all.status().ToString();
    return;
  }
  auto differ = [&](std::string text) {
    ++row.provider_differ_count;
    if (row.provider_differ.size() < kMissingShown) row.provider_differ.push_back(std::move(text));
  };
  for (const crm::StoredEntity& stored : *all) {
    const model::Entity& held = stored.entity;
    if (held.kind != model::EntityKind::kPayment || held.source != id) continue;
    if (row.provider_payments >= options.max_lookups) {
      row.provider_partial = true;
      break;
    }
    ++row.provider_payments;
    const std::string name = "payment/" + held.external_id;
    Result<adapters::InboundEvent> record = lookup.LookUpPayment(held.external_id);
    if (!record.ok()) {
      if (record.status().code() == StatusCode::kNotFound) {
        ++row.provider_unknown;
        differ(fmt::format("{}: provider does not know it, crm {}", name, StatusOf(held)));
      } else {
        ++row.provider_failed;
      }
      continue;
    }
    std::optional<Result<std::vector<model::Entity>>> mapped =
        MapRecord(std::move(*record), id, mapper, clock);
    const model::Entity* said = nullptr;
    if (mapped && mapped->ok()) {
      for (const model::Entity& e : **mapped) {
        if (e.kind == model::EntityKind::kPayment && e.external_id == held.external_id) said = &e;
      }
    }
    if (said == nullptr) {
      ++row.provider_failed;
      continue;
    }
    if (StatusOf(*said) == StatusOf(held)) {
      ++row.provider_agree;
    } else {
      differ(fmt::format("{}: provider {}, crm {}", name, StatusOf(*said), StatusOf(held)));
    }
  }
}

// Pages one source and checks what its records map to.
void CountOne(const std::string& id, adapters::SourceCapability& source,
              const daemon::RecordMapper& mapper, crm::SqliteCrmStore& store, Clock& clock,
              const SourceCountOptions& options, SourceCount& row) {
  row.asked = true;
  std::set<std::pair<int, std::string>> seen;
  std::optional<std::string> cursor;
  while (true) {
    if (row.pages >= options.max_pages) {
      row.partial = true;
      row.note = fmt::format("stopped after {} pages (--source-pages)", options.max_pages);
      return;
    }
    Result<adapters::PullResult> page = source.Pull(cursor);
    if (!page.ok()) {
      row.partial = true;
      row.note = "pull failed: " + page.status().ToString();
      return;
    }
    ++row.pages;
    for (adapters::InboundEvent& e : page->events) {
      ++row.records;
      std::optional<Result<std::vector<model::Entity>>> mapped =
          MapRecord(std::move(e), id, mapper, clock);
      if (!mapped) continue;  // a hint
      Result<std::vector<model::Entity>>& entities = *mapped;
      if (!entities.ok()) {
        ++row.unmapped;
        continue;
      }
      for (const model::Entity& entity : *entities) {
        if (!seen.emplace(static_cast<int>(entity.kind), entity.external_id).second) continue;
        ++row.entities;
        auto& [kind_listed, kind_in_crm] = row.kinds[std::string(model::KindName(entity.kind))];
        ++kind_listed;
        auto found = store.Find(entity.kind, entity.source, entity.external_id);
        if (found.ok() && found->has_value()) {
          ++row.in_crm;
          ++kind_in_crm;
        } else {
          ++row.missing_count;
          if (row.missing.size() < kMissingShown) {
            row.missing.push_back(std::string(model::KindName(entity.kind)) + "/" +
                                  entity.external_id);
          }
        }
      }
    }
    if (!page->more || !page->next_cursor) return;
    if (page->not_before) {
      row.partial = true;
      row.note = "the source asked to pause (rate limit); counted so far";
      return;
    }
    cursor = std::move(page->next_cursor);
  }
}

}  // namespace

Result<std::vector<SourceCount>> CountSources(const config::Config& config,
                                              crm::SqliteCrmStore& store, Clock& clock,
                                              const SourceCountOptions& options) {
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) threads.emplace_back([&io] { io.run(); });
  struct Join {
    boost::asio::io_context& io;
    decltype(work)& guard;
    std::vector<std::thread>& threads;
    ~Join() {
      guard.reset();
      io.stop();
      for (auto& t : threads) t.join();
    }
  };
  std::vector<SourceCount> rows;
  {
    net::HttpClient http(io, daemon::HttpClientOptionsFrom(config));
    MetricsRegistry metrics;
    adapters::AdapterContext context{.http = &http, .clock = &clock, .metrics = &metrics};
    Join join{io, work, threads};
    auto built = daemon::BuildAdapters(config, daemon::AllAdapterTypes(),
                                       daemon::DefaultRuntimeHooks(), context);
    if (!built.ok()) return built.status();
    for (const config::Section& section : config.Adapters()) {
      SourceCount row;
      row.adapter = section.id();
      row.type = section.GetString("type");
      const auto& entry = (*built)->entries.at(section.id());
      if (!entry.enabled) {
        row.note = "disabled";
      } else if (entry.adapter->source() == nullptr) {
        row.note = "cannot list its records (no pull: webhook or target only)";
      } else {
        CountOne(section.id(), *entry.adapter->source(), entry.mapper, store, clock, options, row);
      }
      if (auto* lookup = dynamic_cast<adapters::kit::PaymentLookup*>(entry.adapter.get());
          entry.enabled && lookup != nullptr) {
        CompareProvider(section.id(), *lookup, entry.mapper, store, clock, options, row);
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

nlohmann::json SourceCountJson(const std::vector<SourceCount>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const SourceCount& r : rows) {
    nlohmann::json kinds = nlohmann::json::object();
    for (const auto& [kind, counts] : r.kinds) {
      kinds[kind] = {{"entities", counts.first}, {"in_crm", counts.second}};
    }
    out.push_back({{"adapter", r.adapter},
                   {"type", r.type},
                   {"asked", r.asked},
                   {"note", r.note},
                   {"pages", r.pages},
                   {"records", r.records},
                   {"entities", r.entities},
                   {"in_crm", r.in_crm},
                   {"missing", r.missing_count},
                   {"missing_examples", r.missing},
                   {"unmapped", r.unmapped},
                   {"partial", r.partial},
                   {"kinds", std::move(kinds)}});
    if (r.provider_asked) {
      out.back()["provider"] = {
          {"payments", r.provider_payments},   {"agree", r.provider_agree},
          {"differ", r.provider_differ_count}, {"differ_examples", r.provider_differ},
          {"unknown", r.provider_unknown},     {"failed", r.provider_failed},
          {"partial", r.provider_partial}};
    }
  }
  return out;
}

std::string SourceCountTable(const std::vector<SourceCount>& rows) {
  std::string out =
      fmt::format("{:<20} {:<16} {:>8} {:>9} {:>8} {:>8} {:>9}  {}\n", "ADAPTER", "TYPE", "LISTED",
                  "ENTITIES", "IN_CRM", "MISSING", "UNMAPPED", "NOTE");
  int64_t missing = 0;
  for (const SourceCount& r : rows) {
    if (!r.asked) {
      out += fmt::format("{:<20} {:<16} {:>8} {:>9} {:>8} {:>8} {:>9}  {}\n", r.adapter, r.type,
                         "-", "-", "-", "-", "-", r.note);
      continue;
    }
    missing += r.missing_count;
    std::string note = r.partial ? "partial: " + r.note : r.note;
    // Each kind, in crm.db of listed: "order 300/300, return 41/41".
    std::string kinds;
    for (const auto& [kind, counts] : r.kinds) {
      kinds +=
          fmt::format("{}{} {}/{}", kinds.empty() ? "" : ", ", kind, counts.second, counts.first);
    }
    if (!kinds.empty()) note += (note.empty() ? "" : "; ") + kinds;
    if (!r.missing.empty()) {
      std::string ids;
      for (const auto& m : r.missing) ids += (ids.empty() ? "" : ", ") + m;
      note += (note.empty() ? "" : "; ") + std::string("missing: ") + ids +
              (r.missing_count > static_cast<int64_t>(r.missing.size()) ? ", ..." : "");
    }
    out += fmt::format("{:<20} {:<16} {:>8} {:>9} {:>8} {:>8} {:>9}  {}\n", r.adapter, r.type,
                       r.records, r.entities, r.in_crm, r.missing_count, r.unmapped, note);
  }
  out += missing == 0 ? "every record the sources list is in the CRM store\n"
                      : fmt::format("{} listed by the sources are not in the CRM store\n", missing);
  // Payment providers: what each says beside what crm.db holds.
  bool header = false;
  for (const SourceCount& r : rows) {
    if (!r.provider_asked) continue;
    if (!header) {
      out += fmt::format("\n{:<20} {:<16} {:>8} {:>8} {:>8} {:>8} {:>8}  {}\n", "PROVIDER", "TYPE",
                         "PAYMENTS", "AGREE", "DIFFER", "UNKNOWN", "FAILED",
                         "PROVIDER SAYS / CRM HOLDS");
      header = true;
    }
    std::string note = r.provider_partial ? "partial: more payments in crm.db than looked up" : "";
    for (const auto& d : r.provider_differ) note += (note.empty() ? "" : "; ") + d;
    if (r.provider_differ_count > static_cast<int64_t>(r.provider_differ.size())) note += ", ...";
    out += fmt::format("{:<20} {:<16} {:>8} {:>8} {:>8} {:>8} {:>8}  {}\n", r.adapter, r.type,
                       r.provider_payments, r.provider_agree, r.provider_differ_count,
                       r.provider_unknown, r.provider_failed, note);
  }
  return out;
}

}  // namespace crmhub::cli
