#pragma once
// The one small interface every adapter implements (Fluent Bit's plugin
// callbacks, userver's component-vs-client split).
//
// An adapter is built from its validated config section by a factory listed
// in daemon/adapter_registry.cc. It may offer up to three capabilities:
//   * Source: Pull() one page of new records from the outside system.
//   * Webhook: turn an incoming HTTP request into events (verify, parse,
//     key) on an I/O thread; and, on a worker, Resolve() a hint event into
//     the records it names by calling the system's API.
//   * Target: Deliver() a batch of outbound commands (stock, prices, ...).
// The runtime owns scheduling, the queue owns retries: adapters never sleep
// or loop on failure, they classify (DeliveryOutcome) and return.
//
// Threading: Pull, Resolve and Deliver are called from the adapter's worker
// threads and may block (HTTP through net::ApiClient). HandleWebhook runs on
// an I/O thread and must not block.
//
// Outside data: an adapter reads what it receives through base/json_get.h
// (checked getters, depth-capped parse), never nlohmann's throwing
// accessors, std::stoll or a catch-all; the runtime still catches anything
// thrown at each worker loop iteration, logs and counts it
// (crmhub_worker_exceptions_total), and goes on.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/delivery.h"
#include "base/inbound_event.h"
#include "base/status.h"
#include "net/http_types.h"

namespace crmhub::adapters {

// Name-value pairs a queued event carries beside its payload (the same type
// as queue::Headers: the runtime queues them as they are).
using Headers = std::vector<std::pair<std::string, std::string>>;

// A record from the outside world, before it is queued (base/inbound_event.h).
// The runtime fills lane and source (the adapter id) when it enqueues it.
using crmhub::InboundEvent;

// What a target is asked to do: one queued command as the adapter sees it,
// without the queue's bookkeeping (ids, leases, lanes), so that a target
// reads the same whichever queue engine held the command.
struct Command {
  std::string name;     // "set_stock", "set_price", ... (header "command")
  std::string payload;  // one command item, JSON text
  // The command's identity: the same on every redelivery of this command,
  // different for any other command. What a target keys state it keeps
  // across deliveries by (Wildberries' price tasks awaiting their result),
  // and what it sends as an idempotency key to a system that takes one.
  std::string key;
  // 1 on the first delivery, 2 on the first retry, ...; never 1 after any
  // earlier delivery, a throttled one included (whose attempt the queue does
  // not count against max_attempts), since it may have reached the system.
  int attempt = 1;
};

// What Resolve is handed: a hint the adapter's webhook queued
// (InboundEvent::resolve), as it queued it.
struct Hint {
  std::string key;  // its idempotency key
  std::string kind;
  Headers headers;  // the event's own headers (kind and the resolve mark excluded)
  std::string payload;
  int attempt = 1;
};

// The value of header `name`, or "".
std::string_view HeaderValue(const Headers& headers, std::string_view name);

struct PullResult {
  std::vector<InboundEvent> events;
  // Cursor to persist once `events` are durable; empty: unchanged.
  std::optional<std::string> next_cursor;
  // True when the system has more right now: pull again without waiting.
  bool more = false;
  // Set when the system throttled us: do not pull before this.
  std::optional<SystemTime> not_before;
};

class SourceCapability {
 public:
  virtual ~SourceCapability() = default;
  // Pulls one page after `cursor` (empty on first run). Errors are
  // transient unless the Status says otherwise; the runtime backs off.
  virtual Result<PullResult> Pull(const std::optional<std::string>& cursor) = 0;
  virtual std::chrono::milliseconds poll_interval() const = 0;
};

struct WebhookResult {
  // On success: the events to enqueue durably before answering `accepted`.
  std::vector<InboundEvent> events;
  // The answer once events are durable (or were duplicates). Providers
  // differ: "OK", {"code":0}, 200 with empty body...
  net::HttpResponse accepted;
};

// What Resolve turns a hint into.
struct ResolveResult {
  // kOk: `events` (possibly none) are queued durably in the adapter's lane,
  // then the hint is settled. kRetry / kFail: the hint is retried or
  // dead-lettered like any delivery, and `events` are ignored.
  DeliveryOutcome outcome;
  // The records, keyed exactly as the adapter's pull keys them, so that the
  // pull meeting the same record later is a duplicate.
  std::vector<InboundEvent> events;
};

class WebhookCapability {
 public:
  virtual ~WebhookCapability() = default;
  // Authenticates and parses. A non-OK result is answered by the runtime:
  // kUnauthenticated -> 401, kPermissionDenied -> 403, kInvalidArgument ->
  // 400 with the message as detail. Must not block.
  // request.path is the whole path; WebhookSubPath() gives the part after
  // /hooks/<id>/.
  virtual Result<WebhookResult> HandleWebhook(const net::HttpRequest& request) = 0;
  // Largest body this endpoint accepts (413 above it).
  virtual uint64_t max_body_bytes() const { return 1024 * 1024; }
  // The sub-paths under /hooks/<id>/ the adapter serves; "" is /hooks/<id>
  // itself. Others are answered 404 before HandleWebhook. (Yandex Market
  // posts to <registered URL>/notification; Mango appends events/call.)
  virtual bool ServesPath(std::string_view sub_path) const { return sub_path.empty(); }
  // Methods served; others are answered 405. (A URL check such as
  // Zadarma's GET ?zd_echo= needs GET.)
  virtual bool ServesMethod(std::string_view method) const { return method == "POST"; }
  // The resolve step for hint events (InboundEvent::resolve): asks the
  // system's API for the records the hint names (Yandex Market: the order of
  // a notification; a provider that signs nothing: the payment, re-fetched
  // so only what its API says is acted on). Runs on a delivery worker after
  // the hint is durable and answered, never on an I/O thread; may block.
  // The default fails: an adapter that queues hints implements it.
  virtual ResolveResult Resolve(const Hint& hint);
};

// "notification" for "/hooks/ym-main/notification", "" for "/hooks/ym-main".
std::string_view WebhookSubPath(std::string_view path, std::string_view adapter_id);

class TargetCapability {
 public:
  virtual ~TargetCapability() = default;
  // Delivers queued commands (Command::name "set_stock" | "set_price" |
  // ..., the payload one command item as JSON). One outcome per command, in
  // order; per-item errors from a partly successful answer map to per-item
  // outcomes. May block.
  virtual std::vector<DeliveryOutcome> Deliver(std::span<const Command> batch) = 0;
  // Most messages one Deliver call takes (the API's documented batch size).
  virtual int max_batch() const = 0;
  // Commands this target understands ("set_stock", "set_price").
  virtual std::vector<std::string> commands() const = 0;
};

// A source that also takes whole files handed to it (a bank statement
// uploaded through POST /api/v1/adapters/{id}/files): the adapter keeps the
// file where its Pull finds it, so a file is imported the same way whether
// it was dropped in a folder or uploaded.
class FileCapability {
 public:
  virtual ~FileCapability() = default;
  // Stores `bytes` (`name`: the uploader's file name, may be empty) durably
  // for the next pull and returns the answer (2xx once it is stored; 4xx
  // with the reason when it is refused). Runs on a blocking pool thread
  // (disk writes and fsync); may block. Thread-safe.
  virtual net::HttpResponse AcceptFile(std::string_view bytes, std::string_view name) = 0;
};

class Adapter {
 public:
  virtual ~Adapter() = default;
  virtual const std::string& id() const = 0;  // [adapters.<id>]
  virtual std::string_view type() const = 0;  // "webhook", "ozon", ...

  virtual SourceCapability* source() { return nullptr; }
  virtual WebhookCapability* webhook() { return nullptr; }
  virtual TargetCapability* target() { return nullptr; }
  virtual FileCapability* files() { return nullptr; }

  // For the admin API's adapter status (cursor, account, ...).
  virtual std::string DescribeJson() const { return "{}"; }
};

}  // namespace crmhub::adapters

// ---------------------------------------------------------------------------
// Construction.

#include <functional>

#include "base/metrics.h"
#include "config/config.h"

namespace crmhub::net {
class HttpClient;
}

namespace crmhub::adapters {

// What an adapter's factory may use. Everything outlives the adapter.
struct AdapterContext {
  net::HttpClient* http = nullptr;  // null in `check-config` (no I/O then)
  Clock* clock = nullptr;
  MetricsRegistry* metrics = nullptr;
  // Orders' statuses by the declared precedence ([crm]
  // order_status_precedence, model::DeclaredStatusPrecedence::Stale, handed
  // in by the runtime: adapters do not see the model): true when `incoming`
  // ranks below `held` (or contradicts it). For an adapter that sends orders
  // to a system which changes them too. Null: nothing declared.
  std::function<bool(std::string_view held, std::string_view incoming)> order_status_stale;
};

using AdapterFactory = std::function<Result<std::unique_ptr<Adapter>>(
    const config::Section& section, const AdapterContext& context)>;

struct AdapterType {
  config::AdapterSchema schema;  // schema.type is the `type = "..."` value
  AdapterFactory factory;
};

}  // namespace crmhub::adapters
