// The production wiring of RuntimeHooks: the CRM sink named by [crm] sink
// and the mapping rules engine for each adapter's `mapping` file.

#include <spdlog/spdlog.h>

#include "crm/sink_factory.h"
#include "crm/store_schema.h"
#include "daemon/runtime.h"
#include "mapping/rules/rule_set.h"
#include "matching/matching_sink.h"

namespace crmhub::daemon {
namespace {

Result<std::unique_ptr<crm::CrmSink>> MakeSink(const config::Config& config,
                                               const std::filesystem::path& data_dir,
                                               net::HttpClient& http, Clock& clock,
                                               MetricsRegistry& metrics) {
  const config::Section& section = config.Get("crm");
  crm::SinkOptions options;
  options.type = section.GetString("sink");
  options.data_dir = data_dir;
  if (section.Has("url")) options.url = section.GetString("url");
  if (section.Has("token_file")) options.token = section.GetSecret("token_file");
  options.timeout = section.GetDuration("timeout");
  options.lead_merge_window = section.GetDuration("lead_merge_window");
  options.order_status_precedence = section.GetStringList("order_status_precedence");
  auto sink = crm::MakeSink(options, clock, &http);
  if (!sink.ok()) return sink;
  // Payment matching works on the embedded store's tables (docs/matching.md).
  const config::Section& matching = config.Get("matching");
  if (options.type != "sqlite" || !matching.GetBool("enabled")) return sink;
  auto matcher = matching::PaymentMatcher::Open(data_dir / std::string(crm::kCrmDbFileName),
                                                matching.GetStringList("invoice_patterns"), clock);
  if (!matcher.ok()) return matching.ErrorAt("invoice_patterns", matcher.status().message());
  return std::unique_ptr<crm::CrmSink>(
      std::make_unique<matching::MatchingSink>(std::move(*sink), std::move(*matcher), &metrics));
}

Result<RecordMapper> MakeMapper(const config::Section& adapter) {
  if (!adapter.Has("mapping")) return RecordMapper();
  auto rules = mapping::LoadRules(adapter.GetPath("mapping"));
  if (!rules.ok()) return adapter.ErrorAt("mapping", rules.status().message());
  if (auto external = rules->ExternalLookups(); !external.empty()) {
    // No external lookup tables are wired to the runtime yet: records whose
    // rules need one fail mapping (dead letter) with the rule named.
    spdlog::warn(
        "adapter {}: mapping rules use lookup tables not defined in the rules file; "
        "records needing them will fail mapping",
        adapter.id());
  }
  return RecordMapper([rules = std::move(*rules)](const queue::Message& message) {
    mapping::ApplyContext context;
    context.source = message.source;
    context.received_ms = ToUnixMillis(message.created_at);
    return rules.ApplyText(message.payload, context);
  });
}

}  // namespace

RuntimeHooks DefaultRuntimeHooks() {
  RuntimeHooks hooks;
  hooks.make_sink = MakeSink;
  hooks.make_mapper = MakeMapper;
  return hooks;
}

}  // namespace crmhub::daemon
