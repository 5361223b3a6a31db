#pragma once
// Pieces of the runtime built from a validated config (internal to
// daemon/runtime.cc, split out to keep files small and testable).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "adapters/adapter.h"
#include "config/config.h"
#include "daemon/http_routes.h"
#include "daemon/pipeline.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "queue/kafka/kafka_queue.h"
#include "queue/sqlite_queue.h"

namespace crmhub::daemon {

struct RuntimeHooks;

// The adapters of one config generation.
struct AdapterSet {
  struct Entry {
    std::string type;
    bool enabled = true;
    std::shared_ptr<adapters::Adapter> adapter;  // null when disabled
    RecordMapper mapper;                         // empty without `mapping`
  };
  std::map<std::string, Entry> entries;  // by id, every configured adapter
};

// Builds every enabled adapter and its mapper. Fails (with the section's
// location) when a factory fails, or an adapter that receives records has
// no mapping rules.
Result<std::shared_ptr<const AdapterSet>> BuildAdapters(
    const config::Config& config, const std::vector<adapters::AdapterType>& types,
    const RuntimeHooks& hooks, const adapters::AdapterContext& context);

queue::SqliteQueueOptions QueueOptionsFrom(const config::Config& config,
                                           const std::filesystem::path& data_dir);
// [queue] engine = "kafka": brokers, topic_prefix, [queue.kafka] and the
// retry policies. kInvalidArgument (at the key) when brokers is missing.
Result<queue::kafka::KafkaQueueOptions> KafkaQueueOptionsFrom(const config::Config& config);
net::HttpClientOptions HttpClientOptionsFrom(const config::Config& config);
net::HttpServerOptions HttpServerOptionsFrom(const config::Config& config);
PipelineOptions PipelineOptionsFrom(const config::Config& config);

// "ozon-main" -> ["source", "target"].
std::vector<std::string> Capabilities(adapters::Adapter& adapter);

}  // namespace crmhub::daemon
