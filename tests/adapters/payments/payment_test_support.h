#pragma once
// Shared pieces of the payment adapters' tests: requests as a provider
// sends them, the contract files, adapters built from a config file through
// their factory (secrets in files), and the CRM store's final state after
// the shipped rules map what an adapter queued, in a given order.

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/adapter.h"
#include "base/clock.h"
#include "base/metrics.h"
#include "config/config.h"
#include "crm/sqlite_store.h"
#include "crm/store_schema.h"
#include "mapping/rules/rule_set.h"
#include "net/http_types.h"

namespace crmhub::adapters::payments_testing {

inline std::string ReadContract(const std::string& path) {
  std::ifstream in(std::string(CRMHUB_CONTRACTS_DIR) + "/payments/" + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The contract file as JSON; a missing file fails the test that reads it.
inline nlohmann::json Contract(const std::string& path) {
  return nlohmann::json::parse(ReadContract(path), nullptr, /*allow_exceptions=*/false);
}

inline net::HttpRequest Request(std::string path, std::string body, std::string from,
                                std::string content_type) {
  net::HttpRequest r;
  r.method = "POST";
  r.target = r.path = std::move(path);
  r.body = std::move(body);
  r.remote_address = std::move(from);
  r.headers.Set("Content-Type", std::move(content_type));
  return r;
}

// What the default logger writes while it lives (to check that no secret is
// ever logged).
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() const { return out_.str(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream out_;
};

inline double Refusals(MetricsRegistry& metrics, const std::string& adapter,
                       const std::string& rule) {
  return metrics
      .GetCounter("crmhub_webhook_refusals_total", "", {{"adapter", adapter}, {"rule", rule}})
      .value();
}

// A temp directory with secret files, and adapters of `type` built from
// "[adapters.<id>]\ntype = ...\n<keys>" through the factory.
class FactoryDir {
 public:
  FactoryDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "crmhub-pay-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    dir_ = tmpl;
  }
  ~FactoryDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // Writes `content` (and a newline, as editors do) to a file; its path.
  std::string Secret(const std::string& name, const std::string& content) const {
    std::ofstream(dir_ / name, std::ios::trunc) << content << (content.empty() ? "" : "\n");
    return (dir_ / name).string();
  }
  Result<std::unique_ptr<Adapter>> Build(const AdapterType& type, const std::string& id,
                                         const std::string& keys,
                                         const AdapterContext& context = {}) const {
    std::ofstream(dir_ / "crmhub.toml", std::ios::trunc)
        << "[adapters." << id << "]\ntype = \"" << type.schema.type << "\"\n"
        << keys;
    config::Schema schema;
    schema.adapter_types.push_back(type.schema);
    auto cfg = config::LoadConfig(dir_ / "crmhub.toml", schema);
    if (!cfg.ok()) return cfg.status();
    return type.factory(cfg->Adapters()[0], context);
  }
  const std::filesystem::path& path() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

// Maps each queued payload with config/mappings/<rules> and applies it to a
// fresh crm.db, in the given order (each its own event); returns the store
// for reading. Mapping errors and failed events are collected in `errors`.
class MappedStore {
 public:
  explicit MappedStore(const std::string& rules)
      : rules_(mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) + "/config/mappings/" + rules)) {
    crm::SqliteStoreOptions o;
    o.path = dir_.path() / std::string(crm::kCrmDbFileName);
    store_ = crm::SqliteCrmStore::Open(o, clock_).value();
  }
  bool rules_ok() const { return rules_.ok(); }
  void Apply(const std::string& source, const InboundEvent& e) {
    auto entities = rules_->ApplyText(e.payload, {.source = source, .received_ms = 1});
    if (!entities.ok()) {
      errors.push_back(entities.status().message());
      return;
    }
    crm::SinkEvent ev;
    ev.source = source;
    ev.idempotency_key = e.idempotency_key;
    ev.message_id = ++n_;
    ev.entities = std::move(*entities);
    for (const auto& outcome : store_->Apply({ev})) {
      if (!outcome.ok()) errors.push_back(outcome.error);
    }
  }
  // The stored entity's status, or "<absent>".
  std::string Status(model::EntityKind kind, const std::string& source, const std::string& id) {
    auto e = store_->Find(kind, source, id);
    if (!e.ok() || !e->has_value()) return "<absent>";
    return (**e).entity.fields.value("status", "<none>");
  }
  crm::SqliteCrmStore& store() { return *store_; }
  std::vector<std::string> errors;

 private:
  struct Dir {
    Dir() {
      std::string tmpl = (std::filesystem::temp_directory_path() / "crmhub-pay-XXXXXX").string();
      if (mkdtemp(tmpl.data()) == nullptr) std::abort();
      p = tmpl;
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(p, ec);
    }
    const std::filesystem::path& path() const { return p; }
    std::filesystem::path p;
  };
  Dir dir_;
  ManualClock clock_;
  Result<mapping::RuleSet> rules_;
  std::unique_ptr<crm::SqliteCrmStore> store_;
  int64_t n_ = 0;
};

}  // namespace crmhub::adapters::payments_testing
