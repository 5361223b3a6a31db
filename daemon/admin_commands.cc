// POST /api/v1/commands: part of AdminApi (daemon/admin_api.h), kept apart
// because of the Idempotency-Key protocol.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/adapter.h"
#include "base/json_get.h"
#include "daemon/admin_api.h"
#include "daemon/queued_events.h"

namespace crmhub::daemon {
namespace {

using nlohmann::json;

constexpr size_t kMaxItems = 10'000;
constexpr size_t kMaxKeyLength = 255;

// Identity fields of a command item, in the order they form the ordering
// key. warehouse_id last: stock is per SKU x warehouse.
constexpr std::string_view kIdentityFields[] = {
    "offer_id", "sku", "product_id", "nm_id", "barcode", "chrt_id", "id", "warehouse_id"};

std::string Scalar(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  return {};
}

std::string OrderingKeyOf(std::string_view command, const json& item) {
  std::string key;
  for (std::string_view field : kIdentityFields) {
    auto it = item.find(field);
    if (it == item.end()) continue;
    std::string v = Scalar(*it);
    if (v.empty()) continue;
    key += ':';
    key += v;
  }
  if (key.empty()) return {};
  return std::string(command) + key;
}

// The Idempotency-Key value is a Structured Field sf-string ("..." quoted)
// per the draft; a bare token is accepted too, as many clients send that.
std::string_view UnquoteKey(std::string_view v) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

struct ParsedCommand {
  std::string target;
  std::string command;
  std::vector<std::string> items;  // each item as compact JSON
  std::vector<std::string> ordering_keys;
};

// 400-class validation of the body's shape. Errors carry the HTTP answer.
Result<ParsedCommand> ParseCommand(const std::string& body, int max_depth) {
  Result<json> parsed = ParseJson(body, max_depth);
  if (!parsed.ok()) {
    return Status::InvalidArgument(parsed.status().message() == "malformed JSON"
                                       ? std::string("body is not valid JSON")
                                       : "body " + parsed.status().message());
  }
  json doc = std::move(parsed).value();
  if (!doc.is_object()) return Status::InvalidArgument("body must be a JSON object");
  ParsedCommand out;
  auto target = doc.find("target");
  if (target == doc.end() || !target->is_string() || target->get<std::string>().empty()) {
    return Status::InvalidArgument("\"target\": a non-empty string is required");
  }
  auto command = doc.find("command");
  if (command == doc.end() || !command->is_string() || command->get<std::string>().empty()) {
    return Status::InvalidArgument("\"command\": a non-empty string is required");
  }
  auto items = doc.find("items");
  if (items == doc.end() || !items->is_array() || items->empty()) {
    return Status::InvalidArgument("\"items\": a non-empty array is required");
  }
  if (items->size() > kMaxItems) {
    return Status::InvalidArgument(fmt::format("\"items\": at most {} per command", kMaxItems));
  }
  out.target = target->get<std::string>();
  out.command = command->get<std::string>();
  for (size_t i = 0; i < items->size(); ++i) {
    const json& item = (*items)[i];
    if (!item.is_object()) {
      return Status::InvalidArgument(fmt::format("\"items\"[{}]: an object is required", i));
    }
    out.items.push_back(item.dump(-1, ' ', false, json::error_handler_t::replace));
    out.ordering_keys.push_back(OrderingKeyOf(out.command, item));
  }
  return out;
}

// What the audit journal says a command was: "ozon-main set_stock (3 items)".
std::string DescribeCommand(const ParsedCommand& c) {
  return fmt::format("{} {} ({} items)", c.target, c.command, c.items.size());
}

net::HttpResponse Unavailable(const HttpRoutesOptions& options, std::string_view detail) {
  auto r = net::HttpResponse::Error(503, "unavailable", detail);
  r.headers.Set("Retry-After", std::to_string(options.retry_after.count()));
  return r;
}

}  // namespace

std::string AdminApi::OrderingKeyFor(std::string_view command, std::string_view item_json) {
  json item = json::parse(item_json, nullptr, false);
  if (!item.is_object()) return {};
  return OrderingKeyOf(command, item);
}

void AdminApi::Commands(const net::HttpRequest& request, const net::Responder& respond,
                        const std::shared_ptr<AuditNote>& note) {
  std::optional<std::string_view> header = request.headers.Get("Idempotency-Key");
  if (!header) {
    respond(net::HttpResponse::Error(400, "idempotency_key_missing",
                                     "the Idempotency-Key header is required"));
    return;
  }
  const std::string key(UnquoteKey(*header));
  if (key.empty() || key.size() > kMaxKeyLength) {
    respond(net::HttpResponse::Error(
        400, "bad_request",
        fmt::format("Idempotency-Key must be 1..{} characters", kMaxKeyLength)));
    return;
  }
  auto body = std::make_shared<std::string>(request.body);
  RunBlocking([this, key, body, respond, note] {
    const std::string fingerprint = IdempotencyStore::Fingerprint(*body);
    Result<IdempotencyStore::BeginResult> begin = store_.Begin(key, fingerprint);
    if (!begin.ok()) {
      spdlog::error("commands: idempotency store: {}", begin.status().ToString());
      return respond(Unavailable(options_, "idempotency store unavailable, retry later"));
    }
    switch (begin->decision) {
      case IdempotencyStore::Decision::kInFlight:
        return respond(net::HttpResponse::Error(
            409, "conflict", "a request with this Idempotency-Key is still being processed"));
      case IdempotencyStore::Decision::kMismatch:
        return respond(net::HttpResponse::Error(
            422, "idempotency_key_reused",
            "this Idempotency-Key was already used with a different request body"));
      case IdempotencyStore::Decision::kReplay: {
        // The journal names the command of a repeat too.
        if (Result<ParsedCommand> p = ParseCommand(*body, options_.max_json_depth);
            p.ok() && note) {
          note->target = DescribeCommand(*p);
        }
        auto r = net::HttpResponse::Json(begin->response.status, begin->response.body);
        r.headers.Set("Idempotent-Replayed", "true");
        return respond(std::move(r));
      }
      case IdempotencyStore::Decision::kProceed:
        break;
    }
    // From here the key is in flight: every exit either Abandon()s it (the
    // client may retry with the same key) or Complete()s it.
    auto fail = [&](net::HttpResponse r) {
      store_.Abandon(key);
      respond(std::move(r));
    };
    Result<ParsedCommand> parsed = ParseCommand(*body, options_.max_json_depth);
    if (!parsed.ok())
      return fail(net::HttpResponse::Error(400, "bad_request", parsed.status().message()));
    // The journal names what the command was for (set before any answer).
    if (note) note->target = DescribeCommand(*parsed);
    std::shared_ptr<adapters::Adapter> adapter;
    if (deps_.find_adapter) adapter = deps_.find_adapter(parsed->target);
    adapters::TargetCapability* target = adapter ? adapter->target() : nullptr;
    if (target == nullptr) {
      return fail(net::HttpResponse::Error(
          404, "unknown_target", fmt::format("no target adapter \"{}\"", parsed->target)));
    }
    const std::vector<std::string> supported = target->commands();
    if (std::find(supported.begin(), supported.end(), parsed->command) == supported.end()) {
      return fail(
          net::HttpResponse::Error(422, "unsupported_command",
                                   fmt::format("target \"{}\" does not support command \"{}\"",
                                               parsed->target, parsed->command)));
    }
    queue::Queue& q = *deps_.queue;
    if (!q.Healthy()) return fail(Unavailable(options_, "queue unavailable, retry later"));
    if (options_.queue_high_water > 0 && q.Depth() >= options_.queue_high_water) {
      return fail(Unavailable(options_, "queue is full, retry later"));
    }
    std::vector<queue::NewMessage> messages;
    messages.reserve(parsed->items.size());
    const std::string lane = "out." + parsed->target;
    for (size_t i = 0; i < parsed->items.size(); ++i) {
      queue::NewMessage m;
      m.lane = lane;
      m.source = "commands";
      m.idempotency_key = fmt::format("{}:{}", key, i);
      m.ordering_key = std::move(parsed->ordering_keys[i]);
      m.headers = {{std::string(kCommandHeader), parsed->command}};
      m.payload = std::move(parsed->items[i]);
      messages.push_back(std::move(m));
    }
    q.EnqueueAsync(std::move(messages), [this, key, fingerprint, respond](
                                            Result<std::vector<queue::EnqueueOutcome>> outcome) {
      if (!outcome.ok()) {
        store_.Abandon(key);
        if (outcome.status().code() == StatusCode::kResourceExhausted) {
          return respond(Unavailable(options_, "queue is full, retry later"));
        }
        spdlog::warn("commands: enqueue failed: {}", outcome.status().ToString());
        return respond(Unavailable(options_, "queue unavailable, retry later"));
      }
      int64_t accepted = 0;
      int64_t duplicates = 0;
      for (queue::EnqueueOutcome o : *outcome) {
        (o == queue::EnqueueOutcome::kAccepted ? accepted : duplicates)++;
      }
      IdempotencyStore::StoredResponse stored{
          202, json{{"accepted", accepted}, {"duplicates", duplicates}}.dump()};
      // The durable write of the answer is blocking: not on the queue's thread.
      RunBlocking([this, key, fingerprint, stored, respond] {
        Status s = store_.Complete(key, fingerprint, stored);
        if (!s.ok()) {
          // The items are queued; a retry with the key is processed again and
          // the queue's dedup reports them as duplicates.
          spdlog::error("commands: could not record Idempotency-Key: {}", s.ToString());
        }
        respond(net::HttpResponse::Json(stored.status, stored.body));
      });
    });
  });
}

}  // namespace crmhub::daemon
