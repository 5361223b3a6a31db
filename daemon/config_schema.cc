#include "daemon/config_schema.h"

#include <cstdlib>

#include "daemon/kafka_config.h"
#include "matching/invoice_numbers.h"

namespace crmhub::daemon {

using config::KeySpec;
using config::SectionSpec;
using config::Type;

namespace {

std::vector<KeySpec> RetryKeys(bool with_defaults) {
  auto d = [&](const char* v) { return with_defaults ? std::string(v) : std::string(); };
  const char* inherit = with_defaults ? "" : " Unset: the value from [queue].";
  return {
      {.name = "initial_backoff",
       .type = Type::kDuration,
       .default_value = d("\"1s\""),
       .description = std::string("Delay before the first retry; doubles per attempt, with full "
                                  "jitter (a random delay between 0 and the doubled value).") +
                      inherit},
      {.name = "max_backoff",
       .type = Type::kDuration,
       .default_value = d("\"5m\""),
       .description = std::string("Cap on the retry delay. A Retry-After from the other side "
                                  "overrides it.") +
                      inherit},
      {.name = "max_attempts",
       .type = Type::kInt,
       .default_value = d("20"),
       .description = std::string("Attempts before a message becomes a dead letter.") + inherit,
       .min = 1,
       .max = 1'000'000},
      {.name = "max_age",
       .type = Type::kDuration,
       .default_value = d("\"24h\""),
       .description = std::string("Age (since first accepted) after which a failing message "
                                  "becomes a dead letter instead of being retried.") +
                      inherit},
  };
}

}  // namespace

config::Schema BuildSchema(const std::vector<adapters::AdapterType>& adapter_types) {
  config::Schema schema;
  schema.sections.push_back(SectionSpec{
      "daemon",
      "The process itself.",
      {
          {.name = "data_dir",
           .type = Type::kPath,
           .default_value = "\"var\"",
           .description = "Folder holding all state: queue.db (the durable queue) and crm.db (the "
                          "embedded CRM store). Unset: $STATE_DIRECTORY under systemd "
                          "(StateDirectory=), else var/ in the working directory."},
          {.name = "io_threads",
           .type = Type::kInt,
           .default_value = "2",
           .description = "Threads running the event loop (HTTP in and out). One per core is "
                          "plenty; blocking SQLite work runs elsewhere.",
           .min = 1,
           .max = 64},
          {.name = "delivery_workers",
           .type = Type::kInt,
           .default_value = "2",
           .description = "Worker threads per inbound lane that map records and apply them to "
                          "the CRM sink. More helps only when the sink is remote (http).",
           .min = 1,
           .max = 64},
          {.name = "delivery_batch",
           .type = Type::kInt,
           .default_value = "1024",
           .description = "Most queued records a delivery worker leases, maps and applies to the "
                          "CRM sink at once (one transaction in the sqlite sink). Larger batches "
                          "share commits and index pages: 1024 delivers ~15 % more orders/s "
                          "than 256 (docs/performance.md). Fewer when the sink is slow: a "
                          "batch must be applied within [queue] lease_duration.",
           .min = 1,
           .max = 10000},
          {.name = "drain_timeout",
           .type = Type::kDuration,
           .default_value = "\"30s\"",
           .description = "On SIGTERM: how long in-flight requests and deliveries may take to "
                          "finish before their leases are released for the next start."},
          {.name = "drain_grace",
           .type = Type::kDuration,
           .default_value = "\"1s\"",
           .description = "On SIGTERM: how long the listeners stay open, /readyz answering 503 "
                          "draining (and webhooks still accepted), before they close, so that a "
                          "load balancer sees the instance leave. Within drain_timeout."},
      }});
  schema.sections.push_back(SectionSpec{
      "log",
      "Logging (spdlog). Under systemd (JOURNAL_STREAM set) lines carry no timestamp and "
      "use syslog priority prefixes, so journald does not print two timestamps.",
      {
          {.name = "level",
           .type = Type::kEnum,
           .default_value = "\"info\"",
           .description = "Lowest level written.",
           .choices = {"trace", "debug", "info", "warn", "error"}},
          {.name = "format",
           .type = Type::kEnum,
           .default_value = "\"text\"",
           .description = "text for people, json (one object per line) for log shippers. The "
                          "--log-format flag overrides it.",
           .choices = {"text", "json"}},
      }});
  schema.sections.push_back(SectionSpec{
      "http",
      "The HTTP server: webhooks (/hooks/<id>), admin API (/api/v1), /metrics, /healthz, "
      "/readyz.",
      {
          {.name = "listen",
           .type = Type::kStringList,
           .default_value = "[\"127.0.0.1:8080\"]",
           .description = "Addresses to listen on, \"host:port\" (\"[::1]:8080\" for IPv6). "
                          "Several are allowed."},
          {.name = "max_body",
           .type = Type::kSize,
           .default_value = "\"1MiB\"",
           .description = "Largest request body accepted (413 above it) unless an adapter sets "
                          "its own max_body."},
          {.name = "header_limit",
           .type = Type::kSize,
           .default_value = "\"16KiB\"",
           .description = "Largest request header block (431/400 above it)."},
          {.name = "read_timeout",
           .type = Type::kDuration,
           .default_value = "\"15s\"",
           .description = "Time a client has to send one whole request; slower clients "
                          "(slow-loris) are cut off."},
          {.name = "idle_timeout",
           .type = Type::kDuration,
           .default_value = "\"60s\"",
           .description = "How long an idle keep-alive connection is kept open."},
          {.name = "max_connections",
           .type = Type::kInt,
           .default_value = "1024",
           .description = "Open connections at most; more are refused.",
           .min = 1,
           .max = 1'000'000},
          {.name = "max_json_depth",
           .type = Type::kInt,
           .default_value = "64",
           .description = "Deepest nesting of arrays and objects accepted in a webhook body or "
                          "an admin request (400 above it; brackets inside strings do not "
                          "count). Real payloads nest under 10 deep; copying and printing a "
                          "value recurse over its depth, so this is what keeps a hostile "
                          "body from exhausting a thread's stack. Every record is also "
                          "refused by the mapping above 64 levels, whatever door it came in by.",
           .min = 8,
           .max = 1000},
      }});
  schema.sections.push_back(SectionSpec{
      "admin",
      "The admin API (/api/v1): adapters' status, queue stats, dead letters, and "
      "commands from the CRM core.",
      {
          {.name = "token_file",
           .type = Type::kSecret,
           .description = "A bearer token for /api/v1 with every scope, named \"admin\" in "
                          "the audit journal (a file path with '/', or a systemd credential "
                          "name). Several tokens with narrower scopes: [admin.tokens.<name>]. "
                          "No token at all: the admin API answers 401 to everyone. Checked as "
                          "soon as a request's headers are in, before its body is read."},
          {.name = "max_body",
           .type = Type::kSize,
           .default_value = "\"1MiB\"",
           .description = "Largest /api/v1 request body (413 above it): a command of 1000 "
                          "items fits in well under this."},
          {.name = "listen",
           .type = Type::kStringList,
           .description = "Addresses of a separate admin listener (\"127.0.0.1:9091\"). Set, "
                          "the admin API and /metrics are served only here and [http] listen "
                          "serves webhooks, /healthz and /readyz only, so webhooks can face the "
                          "internet while the rest stays on a private address. Unset: "
                          "everything on [http] listen."},
          {.name = "metrics_require_token",
           .type = Type::kBool,
           .default_value = "false",
           .description = "/metrics answers only a bearer token with the read scope (Prometheus: "
                          "authorization.credentials_file in the scrape config)."},
          {.name = "audit_retention",
           .type = Type::kDuration,
           .default_value = "\"365d\"",
           .description = "How long the audit journal (<data_dir>/audit.db: every mutating admin "
                          "call and CLI action on dead letters, by token name) keeps an entry."},
      }});
  schema.sections.push_back(SectionSpec{
      "admin.tokens.*",
      "One named admin token and what it may do. The name is what the audit journal records "
      "(never the token). Scopes: read (adapters, queue, dead letters; /metrics when "
      "metrics_require_token), replay (replay dead letters), commands (POST /api/v1/commands: "
      "the CRM core), admin (everything, including dropping dead letters and reading the "
      "audit journal). Scopes do not imply each other, except admin.",
      {
          {.name = "token_file",
           .type = Type::kSecret,
           .description = "The token (a file path with '/', or a systemd credential name); at "
                          "least 16 characters (openssl rand -hex 32).",
           .required = true},
          {.name = "scopes",
           .type = Type::kStringList,
           .description = "What the token may do, e.g. [\"read\", \"replay\"].",
           .required = true,
           .choices = {"read", "replay", "commands", "admin"}},
      }});
  SectionSpec queue{
      "queue",
      "The durable queue (SQLite, WAL, group commit, fsync before every answer). The retry "
      "keys here are the defaults for every lane; [queue.lanes.<lane>] overrides "
      "them per lane.",
      {
          {.name = "lease_duration",
           .type = Type::kDuration,
           .default_value = "\"60s\"",
           .description = "How long a delivery may take before the message is "
                          "handed out again (a crashed worker loses nothing)."},
          {.name = "poison_after",
           .type = Type::kInt,
           .default_value = "2",
           .description = "A message whose delivery was in flight when the "
                          "process ended this many times in a row goes to the "
                          "dead letters as a poison message (a message that "
                          "crashes the daemon is not delivered again until "
                          "max_attempts). After one such end, each suspect is "
                          "delivered alone, so only the guilty one is counted "
                          "twice. 0: off.",
           .min = 0,
           .max = 100},
          {.name = "unhealthy_restart_after",
           .type = Type::kDuration,
           .default_value = "\"60s\"",
           .description = "After a storage failure the queue refuses writes "
                          "(intake answers 503) and probes the disk every second, "
                          "accepting writes again once a probe succeeds. Still "
                          "refusing after this long, the daemon stops its systemd "
                          "watchdog pings, so systemd restarts it. \"0s\": never."},
          {.name = "dedup_retention",
           .type = Type::kDuration,
           .default_value = "\"7d\"",
           .description = "How long an idempotency key is remembered after it was "
                          "accepted; a repeat inside the window is a duplicate."},
          {.name = "high_water_mark",
           .type = Type::kInt,
           .default_value = "1000000",
           .description = "Undelivered messages above which webhook intake answers "
                          "503 with Retry-After (the senders retry later) instead "
                          "of filling the disk.",
           .min = 1},
      }};
  for (KeySpec& k : RetryKeys(true)) queue.keys.push_back(std::move(k));
  queue.keys.push_back({.name = "engine",
                        .type = Type::kEnum,
                        .default_value = "\"sqlite\"",
                        .description = "sqlite: one SQLite file per daemon (<data_dir>/queue.db). "
                                       "kafka: a Kafka cluster shared by several daemons "
                                       "(brokers, topic_prefix, [queue.kafka]; docs/queue.md, "
                                       "\"The Kafka engine\"): no enqueue-time dedup, the sinks "
                                       "absorb duplicates.",
                        .choices = {"sqlite", "kafka"}});
  queue.keys.push_back({.name = "brokers",
                        .type = Type::kString,
                        .description = "engine = \"kafka\": bootstrap brokers, "
                                       "\"host:port,host:port\"."});
  queue.keys.push_back({.name = "topic_prefix",
                        .type = Type::kString,
                        .default_value = "\"crmhub\"",
                        .description = "engine = \"kafka\": topics are <prefix>.<lane>, "
                                       "<prefix>._dlq and <prefix>._state; each lane's consumer "
                                       "group is <prefix>.<lane>."});
  queue.keys.push_back(
      {.name = "retry_tiers",
       .type = Type::kStringList,
       .default_value = "[]",
       .description = "engine = \"kafka\": delay tiers of unordered retries, ascending "
                      "durations (e.g. [\"1m\", \"10m\", \"1h\"]). A retry due at least the "
                      "first tier ahead waits in the topic <prefix>.<lane>.retry.<tier> of the "
                      "largest tier not above its delay, instead of holding its lane's committed "
                      "offset back. []: every retry goes back to its lane topic."});
  schema.sections.push_back(std::move(queue));
  schema.sections.push_back(
      SectionSpec{"queue.lanes.*",
                  "Retry policy of one lane (lanes are named in.<adapter-id> for inbound "
                  "records and out.<adapter-id> for outbound commands).",
                  RetryKeys(false)});
  schema.sections.push_back(
      SectionSpec{"queue.kafka",
                  "librdkafka properties for [queue] engine = \"kafka\", by librdkafka's own "
                  "names (quote them in TOML: \"security.protocol\" = \"sasl_ssl\"). "
                  "Secrets come from files: <property>_file.",
                  KafkaQueueKeys().specs()});
  schema.sections.push_back(SectionSpec{
      "crm",
      "Where canonical entities go: the embedded SQLite CRM store (crm.db in data_dir) or "
      "the CRM core's REST API (docs/crm-core-api.yaml).",
      {
          {.name = "sink",
           .type = Type::kEnum,
           .default_value = "\"sqlite\"",
           .description = "sqlite: the embedded store; http: PUT each entity to the CRM core's "
                          "API with an Idempotency-Key header.",
           .choices = {"sqlite", "http"}},
          {.name = "url",
           .type = Type::kString,
           .description = "Base URL of the CRM core's API (sink = \"http\"), e.g. "
                          "\"https://crm.example.com/api\"."},
          {.name = "token_file",
           .type = Type::kSecret,
           .description = "Bearer token for the CRM core's API (sink = \"http\")."},
          {.name = "timeout",
           .type = Type::kDuration,
           .default_value = "\"10s\"",
           .description = "Timeout of one request to the CRM core's API."},
          {.name = "lead_merge_window",
           .type = Type::kDuration,
           .default_value = "\"24h\"",
           .description = "sink = \"sqlite\": a lead whose contact's phone matches the contact "
                          "of a lead from another source created within this window joins that "
                          "lead instead of making a second one (a website form and a call from "
                          "one number: one lead). \"0s\": every lead stands alone. The CRM "
                          "core's API (sink = \"http\") does its own merging."},
          {.name = "order_status_precedence",
           .type = Type::kStringList,
           .default_value = "[]",
           .description =
               "sink = \"sqlite\": orders' statuses from first to last, as the "
               "sources name them; statuses of equal rank share one entry, separated by a "
               "vertical bar. "
               "A change to a status ranked below the stored one is stale whatever "
               "its version (1C's late copy cannot walk the CRM's order back, nor "
               "the reverse); equal ranks and undeclared statuses go by the version, "
               "the time of the change. Empty: the version alone."},
      }});
  schema.sections.push_back(SectionSpec{
      "matching",
      "Incoming bank payments (bank_transaction) linked to the deals they pay, by "
      "the payer's INN and an invoice number in the purpose (docs/matching.md). "
      "With the embedded store (sink = \"sqlite\") only.",
      {
          {.name = "enabled",
           .type = Type::kBool,
           .default_value = "true",
           .description = "Match payments as they and deals arrive. Off: `crmhub match run` "
                          "only."},
          {.name = "invoice_patterns",
           .type = Type::kStringList,
           .default_value = config::TomlStringList(matching::DefaultInvoicePatterns()),
           .description = "ECMAScript regular expressions finding invoice numbers in a "
                          "payment's purpose; the first capture group is the number. UTF-8 "
                          "bytes: spell Cyrillic cases out (\"счет|Счет\")."},
      }});
  schema.sections.push_back(SectionSpec{
      "outbound",
      "Outbound HTTP (libcurl) shared by every adapter. TLS peers are always "
      "verified.",
      {
          {.name = "ca_bundle",
           .type = Type::kPath,
           .description = "CA bundle file for TLS verification. Unset: the system's store."},
          {.name = "proxy",
           .type = Type::kString,
           .description = "Proxy URL for outbound requests (\"http://proxy:3128\"). Environment "
                          "proxy variables are ignored."},
          {.name = "connect_timeout",
           .type = Type::kDuration,
           .default_value = "\"10s\"",
           .description = "Connection (and TLS handshake) timeout."},
          {.name = "request_timeout",
           .type = Type::kDuration,
           .default_value = "\"30s\"",
           .description = "Timeout of one whole request, unless an adapter sets its own."},
      }});
  for (const adapters::AdapterType& t : adapter_types) schema.adapter_types.push_back(t.schema);
  return schema;
}

std::filesystem::path ResolveDataDir(const config::Config& config) {
  return ExplainDataDir(config, "the config").path;
}

DataDirChoice ExplainDataDir(const config::Config& config, const std::string& config_file) {
  const config::Section& d = config.Get("daemon");
  if (d.Has("data_dir")) return {d.GetPath("data_dir"), "[daemon] data_dir in " + config_file};
  if (const char* state = std::getenv("STATE_DIRECTORY"); state && *state) {
    // systemd may pass several colon-separated folders; the first is ours.
    std::string first(state);
    if (auto colon = first.find(':'); colon != std::string::npos) first.resize(colon);
    return {first, "$STATE_DIRECTORY (" + config_file + " sets no [daemon] data_dir)"};
  }
  std::error_code ec;
  const auto cwd = std::filesystem::current_path(ec);
  return {d.GetPath("data_dir"), "the default \"var\" in the working directory " +
                                     (ec ? std::string("?") : cwd.string()) + " (" + config_file +
                                     " sets no [daemon] data_dir and $STATE_DIRECTORY is unset; "
                                     "under systemd the daemon uses " +
                                     kSystemdStateDir +
                                     ": pass --data-dir DIR or set STATE_DIRECTORY=DIR)"};
}

DataDirChoice ExplainDataDirForTool(const config::Config& config, const std::string& config_file,
                                    const std::filesystem::path& systemd_state_dir) {
  DataDirChoice choice = ExplainDataDir(config, config_file);
  const bool defaulted =
      !config.Get("daemon").Has("data_dir") &&
      (std::getenv("STATE_DIRECTORY") == nullptr || *std::getenv("STATE_DIRECTORY") == '\0');
  std::error_code ec;
  if (defaulted && !std::filesystem::exists(choice.path / "queue.db", ec) &&
      std::filesystem::exists(systemd_state_dir / "queue.db", ec)) {
    return {systemd_state_dir, "the systemd unit's StateDirectory= (" + systemd_state_dir.string() +
                                   ", the daemon's $STATE_DIRECTORY; " + config_file +
                                   " sets no [daemon] data_dir and there is no var/queue.db here)"};
  }
  return choice;
}

}  // namespace crmhub::daemon
