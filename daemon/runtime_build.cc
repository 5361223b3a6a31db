#include "daemon/runtime_build.h"

#include "base/units.h"
#include "daemon/adapter_registry.h"
#include "daemon/kafka_config.h"
#include "daemon/runtime.h"

namespace crmhub::daemon {
namespace {

queue::RetryPolicy PolicyFrom(const config::Section& s, queue::RetryPolicy p) {
  if (s.Has("initial_backoff") || s.name() == "queue") {
    p.initial_backoff = s.GetDuration("initial_backoff");
  }
  if (s.Has("max_backoff") || s.name() == "queue") p.max_backoff = s.GetDuration("max_backoff");
  if (s.Has("max_attempts") || s.name() == "queue") {
    p.max_attempts = static_cast<int>(s.GetInt("max_attempts"));
  }
  if (s.Has("max_age") || s.name() == "queue") p.max_age = s.GetDuration("max_age");
  return p;
}

}  // namespace

Result<std::shared_ptr<const AdapterSet>> BuildAdapters(
    const config::Config& config, const std::vector<adapters::AdapterType>& types,
    const RuntimeHooks& hooks, const adapters::AdapterContext& context) {
  auto set = std::make_shared<AdapterSet>();
  for (const config::Section& section : config.Adapters()) {
    AdapterSet::Entry entry;
    entry.type = section.GetString("type");
    entry.enabled = section.GetBool("enabled");
    if (entry.enabled) {
      const adapters::AdapterType* type = FindAdapterType(types, entry.type);
      if (type == nullptr) {
        return section.ErrorAt("type", "unknown adapter type \"" + entry.type + "\"");
      }
      auto adapter = type->factory(section, context);
      if (!adapter.ok()) return adapter.status();
      entry.adapter = std::move(*adapter);
      if (hooks.make_mapper) {
        auto mapper = hooks.make_mapper(section);
        if (!mapper.ok()) return mapper.status();
        entry.mapper = std::move(*mapper);
      }
      bool inbound = entry.adapter->source() != nullptr || entry.adapter->webhook() != nullptr;
      if (inbound && !entry.mapper) {
        return section.ErrorAt("mapping",
                               "this adapter receives records and needs mapping rules "
                               "(mapping = \"<rules file>\")");
      }
    }
    set->entries.emplace(section.id(), std::move(entry));
  }
  return std::shared_ptr<const AdapterSet>(std::move(set));
}

queue::SqliteQueueOptions QueueOptionsFrom(const config::Config& config,
                                           const std::filesystem::path& data_dir) {
  const config::Section& q = config.Get("queue");
  queue::SqliteQueueOptions options;
  options.data_dir = data_dir;
  options.default_policy = PolicyFrom(q, queue::RetryPolicy{});
  for (const config::Section& lane : config.Lanes()) {
    options.lane_policies[lane.id()] = PolicyFrom(lane, options.default_policy);
  }
  options.dedup_retention = q.GetDuration("dedup_retention");
  options.high_water_mark = q.GetInt("high_water_mark");
  options.poison_after = static_cast<int>(q.GetInt("poison_after"));
  return options;
}

Result<queue::kafka::KafkaQueueOptions> KafkaQueueOptionsFrom(const config::Config& config) {
  const config::Section& q = config.Get("queue");
  if (!q.Has("brokers") || q.GetString("brokers").empty()) {
    return q.ErrorAt("brokers",
                     "engine = \"kafka\" needs the bootstrap brokers (\"host:port,...\")");
  }
  queue::kafka::KafkaQueueOptions options;
  options.brokers = q.GetString("brokers");
  options.topic_prefix = q.GetString("topic_prefix");
  options.group_id = options.topic_prefix;
  options.properties = KafkaPropertiesFrom(config.Get("queue.kafka"));
  for (const std::string& tier : q.GetStringList("retry_tiers")) {
    auto parsed = ParseDuration(tier);
    if (!parsed.ok() || parsed->count() <= 0) {
      return q.ErrorAt("retry_tiers", "\"" + tier + "\" is not a positive duration (\"10m\")");
    }
    if (!options.retry_tiers.empty() && *parsed <= options.retry_tiers.back()) {
      return q.ErrorAt("retry_tiers", "tiers must be ascending");
    }
    options.retry_tiers.push_back(*parsed);
  }
  options.default_policy = PolicyFrom(q, queue::RetryPolicy{});
  for (const config::Section& lane : config.Lanes()) {
    options.lane_policies[lane.id()] = PolicyFrom(lane, options.default_policy);
  }
  return options;
}

net::HttpClientOptions HttpClientOptionsFrom(const config::Config& config) {
  const config::Section& o = config.Get("outbound");
  net::HttpClientOptions options;
  if (o.Has("ca_bundle")) options.ca_bundle = o.GetPath("ca_bundle").string();
  if (o.Has("proxy")) options.proxy = o.GetString("proxy");
  options.connect_timeout = o.GetDuration("connect_timeout");
  options.request_timeout = o.GetDuration("request_timeout");
  return options;
}

net::HttpServerOptions HttpServerOptionsFrom(const config::Config& config) {
  const config::Section& h = config.Get("http");
  net::HttpServerOptions options;
  options.header_limit_bytes = static_cast<uint32_t>(h.GetSize("header_limit"));
  options.body_limit_bytes = h.GetSize("max_body");
  options.read_timeout = h.GetDuration("read_timeout");
  options.idle_timeout = h.GetDuration("idle_timeout");
  options.max_connections = static_cast<uint32_t>(h.GetInt("max_connections"));
  return options;
}

PipelineOptions PipelineOptionsFrom(const config::Config& config) {
  PipelineOptions options;
  options.delivery_workers = static_cast<int>(config.Get("daemon").GetInt("delivery_workers"));
  options.inbound_batch = static_cast<int>(config.Get("daemon").GetInt("delivery_batch"));
  options.lease_duration = config.Get("queue").GetDuration("lease_duration");
  queue::SqliteQueueOptions queue_options = QueueOptionsFrom(config, {});
  options.retry_policy = [default_policy = queue_options.default_policy,
                          lanes = queue_options.lane_policies](const std::string& lane) {
    auto it = lanes.find(lane);
    return it == lanes.end() ? default_policy : it->second;
  };
  return options;
}

std::vector<std::string> Capabilities(adapters::Adapter& adapter) {
  std::vector<std::string> caps;
  if (adapter.source() != nullptr) caps.push_back("source");
  if (adapter.webhook() != nullptr) caps.push_back("webhook");
  if (adapter.target() != nullptr) caps.push_back("target");
  if (adapter.files() != nullptr) caps.push_back("files");
  return caps;
}

}  // namespace crmhub::daemon
