#include "adapters/mango/mango_adapter.h"

#include <fmt/format.h>

#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "adapters/kit/missed_call.h"
#include "adapters/kit/target.h"
#include "adapters/kit/webhook_fields.h"
#include "base/json_get.h"
#include "net/upstream.h"

namespace crmhub::adapters::mango {
namespace {

// entry_id is at most 128 bytes (§3.1.2); the other ids are no longer.
constexpr size_t kMaxIdBytes = 128;

// "sha256", "hex", the key, the json as sent, then the salt (the secret).
net::SignatureScheme MangoScheme() {
  return net::SignatureScheme::Parse("sha256", "hex", "{field:vpbx_api_key}{field:json}{secret}")
      .value();
}

// An id sent as a string or an integer, as text; nullopt for anything else
// (null, arrays, objects, fractions, beyond int64) and for empty or
// overlong text.
std::optional<std::string> IdText(const nlohmann::json& event, std::string_view name) {
  const nlohmann::json* v = JsonMember(event, name);
  if (v == nullptr) return std::nullopt;
  if (std::optional<std::string_view> s = AsString(*v)) {
    if (s->empty() || s->size() > kMaxIdBytes) return std::nullopt;
    return std::string(*s);
  }
  if (std::optional<int64_t> n = AsInt(*v)) return std::to_string(*n);
  return std::nullopt;
}

struct Path {
  std::string_view sub_path;
  std::string_view kind;
  std::string_view key_prefix;
  std::vector<std::string_view> key_members;
};
const Path kPaths[] = {
    {"events/call", "call_leg", "call", {"entry_id", "call_id", "seq"}},
    {"events/summary", "call_summary", "summary", {"entry_id"}},
    {"events/recording", "call_recording", "recording", {"recording_id", "recording_state"}},
};

// A summary of an incoming call nobody answered (call_direction 1,
// entry_result 0: §3.1.6), as the kit's missed call; nullopt otherwise or
// when the caller or the end time cannot be read (the call itself is still
// queued, and the rules say what is wrong with it).
std::optional<kit::MissedCall> MissedCallOf(const nlohmann::json& summary, std::string entry_id) {
  if (JsonIntLoose(summary, "call_direction") != 1 || JsonIntLoose(summary, "entry_result") != 0) {
    return std::nullopt;
  }
  const nlohmann::json* from = JsonObject(summary, "from");
  const nlohmann::json* to = JsonObject(summary, "to");
  std::optional<std::string> caller = from ? JsonScalarText(*from, "number") : std::nullopt;
  std::optional<int64_t> ended = JsonIntLoose(summary, "end_time");
  if (!caller || caller->empty() || !ended) return std::nullopt;
  return kit::MissedCall{.caller = std::move(*caller),
                         .call_id = std::move(entry_id),
                         .ended = SystemTime(std::chrono::seconds(*ended)),
                         .assignee = to ? JsonScalarText(*to, "extension").value_or("") : "",
                         .line = JsonScalarText(summary, "line_number").value_or("")};
}

// A summary of an answered call (entry_result 1): incoming, from the
// caller's number, or outgoing (call_direction 2), to the number called; as
// the kit's answered call, which closes that number's missed-call task.
std::optional<kit::AnsweredCall> AnsweredCallOf(const nlohmann::json& summary,
                                                std::string entry_id) {
  const std::optional<int64_t> direction = JsonIntLoose(summary, "call_direction");
  if ((direction != 1 && direction != 2) || JsonIntLoose(summary, "entry_result") != 1) {
    return std::nullopt;
  }
  const bool outgoing = direction == 2;
  const nlohmann::json* party = JsonObject(summary, outgoing ? "to" : "from");
  std::optional<std::string> number = party ? JsonScalarText(*party, "number") : std::nullopt;
  std::optional<int64_t> ended = JsonIntLoose(summary, "end_time");
  if (!number || number->empty() || !ended) return std::nullopt;
  return kit::AnsweredCall{.number = std::move(*number),
                           .call_id = std::move(entry_id),
                           .ended = SystemTime(std::chrono::seconds(*ended)),
                           .outgoing = outgoing};
}

const Path* FindPath(std::string_view sub_path) {
  for (const Path& p : kPaths) {
    if (p.sub_path == sub_path) return &p;
  }
  return nullptr;
}

// No transport: every call is a transport failure (kTransient).
net::Transport NoTransport() {
  return [](std::string_view, net::OutboundRequest) -> net::OutboundResult {
    return Status::Unavailable("mango: no HTTP client (check-config)");
  };
}

MangoClientOptions ClientOptions(const MangoConfig& c) {
  MangoClientOptions o;
  if (!c.base_url.empty()) o.base_url = c.base_url;
  while (!o.base_url.empty() && o.base_url.back() == '/') o.base_url.pop_back();
  o.api_key = c.account_key;
  o.api_salt = c.signing_key;
  return o;
}

}  // namespace

std::vector<std::string> PublishedSenders() {
  return {"81.88.80.132", "81.88.80.133", "81.88.82.36", "81.88.82.44", "81.88.82.45"};
}

std::string MangoSign(std::string_view api_key, std::string_view json, std::string_view api_salt) {
  net::SignatureScheme::Inputs inputs;
  inputs.field = [&](std::string_view name) -> std::optional<std::string> {
    return std::string(name == "json" ? json : api_key);
  };
  return MangoScheme().Compute(api_salt, inputs).value();
}

MangoAdapter::MangoAdapter(MangoConfig config, MetricsRegistry* metrics)
    : MangoAdapter(std::move(config), metrics, NoTransport(), nullptr) {}

MangoAdapter::MangoAdapter(MangoConfig config, const AdapterContext& context)
    : MangoAdapter(
          config, context.metrics,
          context.http == nullptr || context.clock == nullptr
              ? NoTransport()
              : net::MakeUpstreamTransport("mango:" + config.id, context.http, *context.clock,
                                           context.metrics, {{"commands", {}}}),
          context.clock) {}

MangoAdapter::MangoAdapter(MangoConfig config, MetricsRegistry* metrics, net::Transport transport,
                           const Clock& clock)
    : MangoAdapter(std::move(config), metrics, std::move(transport), &clock) {}

MangoAdapter::MangoAdapter(MangoConfig config, MetricsRegistry* metrics, net::Transport transport,
                           const Clock* clock)
    : SignedNotificationAdapter(config, "mango", metrics),
      sign_(MangoScheme()),
      client_(ClientOptions(config), std::move(transport),
              clock != nullptr ? *clock : static_cast<const Clock&>(system_clock_)) {}

std::vector<DeliveryOutcome> MangoAdapter::Deliver(std::span<const Command> batch) {
  std::vector<DeliveryOutcome> out(batch.size());
  for (const kit::TargetCommand& c : kit::ReadCommands(batch, {"click_to_call"}, "mango", out)) {
    std::optional<std::string> from = JsonScalarText(c.item, "from_extension");
    std::optional<std::string> to = JsonScalarText(c.item, "to_number");
    if (!from || from->empty() || !to || to->empty()) {
      out[c.index] =
          DeliveryOutcome::Fail("mango: click_to_call needs from_extension and to_number");
      continue;
    }
    auto answer =
        client_.Callback({.command_id = batch[c.index].key,
                          .from_extension = std::move(*from),
                          .to_number = std::move(*to),
                          .line_number = JsonScalarText(c.item, "line_number").value_or("")});
    out[c.index] = answer.ok() ? DeliveryOutcome::Ok() : answer.error().ToOutcome();
  }
  return out;
}

std::string MangoAdapter::DescribeJson() const {
  return nlohmann::json{{"paths", {"events/call", "events/summary", "events/recording"}},
                        {"signature", sign_.Describe()},
                        {"sender_allowlist", !config().allow_ips.empty()}}
      .dump();
}

bool MangoAdapter::ServesPath(std::string_view sub_path) const {
  return FindPath(sub_path) != nullptr;
}

Result<WebhookResult> MangoAdapter::HandleWebhook(const net::HttpRequest& request) {
  if (Status sender = CheckSender(request); !sender.ok()) return sender;
  const Path* path = FindPath(WebhookSubPath(request.path, id()));
  if (path == nullptr) {  // ServesPath keeps these out; a direct call may not
    return refusals().Refuse(Status::InvalidArgument("no such Mango event path"), "body", request);
  }
  Result<kit::WebhookBody> form = kit::WebhookBody::Parse(request.body, kit::BodyFormat::kForm);
  if (!form.ok()) return refusals().Refuse(form.status(), "body", request);
  const std::optional<std::string> api_key = form->Field("vpbx_api_key");
  if (!api_key || !config().account_key.Matches(*api_key)) {
    return refusals().Refuse(Status::Unauthenticated("missing or unknown vpbx_api_key"), "api_key",
                             request);
  }
  const std::optional<std::string> sign = form->Field("sign");
  net::SignatureScheme::Inputs inputs;
  inputs.field = [&form](std::string_view name) { return form->Field(name); };
  if (!sign || !sign_.Verify(config().signing_key.Reveal(), inputs, *sign)) {
    return refusals().Refuse(Status::Unauthenticated("missing or wrong sign"), "signature",
                             request);
  }
  // Signed, so from Mango: what follows is a change in what Mango sends.
  const std::optional<std::string> json = form->Field("json");
  Result<nlohmann::json> event = ParseJson(json.value_or(""));
  if (!event.ok() || !event->is_object()) {
    return refusals().Refuse(Status::InvalidArgument("the json field is not a JSON object"), "body",
                             request);
  }
  std::string key(path->key_prefix);
  for (std::string_view member : path->key_members) {
    std::optional<std::string> part = IdText(*event, member);
    if (member == "seq" && part && !ParseDecimalInt(*part)) part.reset();
    if (!part) {
      return refusals().Refuse(
          Status::InvalidArgument(fmt::format(
              "{}: \"{}\" is missing or not an id (a string of at most {} bytes, or an integer)",
              path->sub_path, member, kMaxIdBytes)),
          "body", request);
    }
    key += ':';
    key += *part;
  }
  std::optional<std::string> entry_id = IdText(*event, "entry_id");
  if (!entry_id) {
    return refusals().Refuse(Status::InvalidArgument(fmt::format(
                                 "{}: \"entry_id\" is missing or not an id", path->sub_path)),
                             "body", request);
  }
  WebhookResult result;
  if (path->kind == "call_summary") {
    if (std::optional<kit::MissedCall> missed = MissedCallOf(*event, *entry_id)) {
      if (auto task = kit::MissedCallTask(config().missed_calls, *missed)) {
        result.events.push_back(std::move(*task));
      }
    }
    if (std::optional<kit::AnsweredCall> answered = AnsweredCallOf(*event, *entry_id)) {
      if (auto closure = kit::MissedCallClosure(config().missed_calls, *answered)) {
        result.events.push_back(std::move(*closure));
      }
    }
  }
  InboundEvent out;
  out.idempotency_key = std::move(key);
  out.ordering_key = std::move(*entry_id);
  out.kind = std::string(path->kind);
  out.payload = *json;
  result.events.insert(result.events.begin(), std::move(out));
  result.accepted = net::HttpResponse::Text(200, "");
  return result;
}

}  // namespace crmhub::adapters::mango
