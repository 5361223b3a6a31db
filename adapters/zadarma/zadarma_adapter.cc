#include "adapters/zadarma/zadarma_adapter.h"

#include <fmt/format.h>

#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "adapters/kit/missed_call.h"
#include "adapters/kit/webhook_fields.h"
#include "base/json_get.h"
#include "base/timestamp.h"
#include "net/signature.h"

namespace crmhub::adapters::zadarma {
namespace {

// Ids are not bounded by the sources; ours are, so keys stay sane.
constexpr size_t kMaxIdBytes = 128;
constexpr size_t kMaxEchoBytes = 128;

struct EventRule {
  std::string_view event;
  std::string_view signed_message;  // a net/signature.h template
  std::string_view key_prefix;
  std::vector<std::string_view> key_fields;
};

// The SDKs' getSignatureString per event (lib/Webhook/Notify*.php) and our
// key per event: a redelivery is a duplicate, the call's next event is not.
const EventRule kEvents[] = {
    {"NOTIFY_START",
     "{field:caller_id}{field:called_did}{field:call_start}",
     "start",
     {"pbx_call_id"}},
    {"NOTIFY_INTERNAL",
     "{field:caller_id}{field:called_did}{field:call_start}",
     "internal",
     {"pbx_call_id", "internal"}},
    {"NOTIFY_ANSWER",
     "{field:caller_id}{field:destination}{field:call_start}",
     "answer",
     {"pbx_call_id", "destination"}},
    {"NOTIFY_END", "{field:caller_id}{field:called_did}{field:call_start}", "end", {"pbx_call_id"}},
    {"NOTIFY_OUT_START",
     "{field:internal}{field:destination}{field:call_start}",
     "out_start",
     {"pbx_call_id"}},
    {"NOTIFY_OUT_END",
     "{field:internal}{field:destination}{field:call_start}",
     "out_end",
     {"pbx_call_id"}},
    {"NOTIFY_RECORD",
     "{field:pbx_call_id}{field:call_id_with_rec}",
     "record",
     {"call_id_with_rec"}},
};

const EventRule* FindEvent(std::string_view event) {
  for (const EventRule& e : kEvents) {
    if (e.event == event) return &e;
  }
  return nullptr;
}

net::SignatureScheme SchemeFor(const EventRule& rule) {
  return net::SignatureScheme::Parse("hmac-sha1", "base64-of-hex", rule.signed_message).value();
}

// A form field as sent, empty included (PHP concatenates an empty value);
// nullopt only when absent.
std::optional<std::string> RawField(const kit::WebhookBody& form, std::string_view name) {
  std::optional<std::string_view> v = JsonString(form.document(), name);
  return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}

bool IsEchoText(std::string_view s) {
  if (s.empty() || s.size() > kMaxEchoBytes) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// When a call ended by its final event: call_start ("YYYY-MM-DD hh:mm:ss"
// without a zone: Moscow time, as the rules) plus duration (the talk time);
// nullopt when call_start cannot be read.
std::optional<SystemTime> EndOf(const kit::WebhookBody& form) {
  std::optional<std::string> start = form.Field("call_start");
  std::optional<SystemTime> at =
      start ? ParseTimestamp(*start, kMoscowOffsetMinutes) : std::nullopt;
  if (!at) return std::nullopt;
  std::optional<int64_t> duration = ParseDecimalInt(form.Field("duration").value_or("0"));
  return *at + std::chrono::seconds(duration.value_or(0));
}

// NOTIFY_END of a call nobody answered (any disposition but "answered"),
// as the kit's missed call; nullopt otherwise, or without an end.
std::optional<kit::MissedCall> MissedCallOf(const kit::WebhookBody& form) {
  if (form.Field("event") != "NOTIFY_END" || form.Field("disposition") == "answered") {
    return std::nullopt;
  }
  std::optional<SystemTime> ended = EndOf(form);
  if (!ended) return std::nullopt;
  return kit::MissedCall{.caller = form.Field("caller_id").value_or(""),
                         .call_id = form.Field("pbx_call_id").value_or(""),
                         .ended = *ended,
                         .assignee = form.Field("internal").value_or(""),
                         .line = form.Field("called_did").value_or("")};
}

// NOTIFY_END (from caller_id) or NOTIFY_OUT_END (to destination: a
// callback) of an answered call, as the kit's answered call, which closes
// that number's missed-call task; nullopt otherwise, or without an end.
std::optional<kit::AnsweredCall> AnsweredCallOf(const kit::WebhookBody& form) {
  const std::optional<std::string> event = form.Field("event");
  const bool outgoing = event == "NOTIFY_OUT_END";
  if ((!outgoing && event != "NOTIFY_END") || form.Field("disposition") != "answered") {
    return std::nullopt;
  }
  std::optional<SystemTime> ended = EndOf(form);
  if (!ended) return std::nullopt;
  return kit::AnsweredCall{
      .number = form.Field(outgoing ? "destination" : "caller_id").value_or(""),
      .call_id = form.Field("pbx_call_id").value_or(""),
      .ended = *ended,
      .outgoing = outgoing};
}

}  // namespace

std::vector<std::string> PublishedSenders() { return {"185.45.152.42"}; }

ZadarmaAdapter::ZadarmaAdapter(ZadarmaConfig config, MetricsRegistry* metrics)
    : SignedNotificationAdapter(std::move(config), "zadarma", metrics) {}

std::string ZadarmaAdapter::DescribeJson() const {
  nlohmann::json events = nlohmann::json::array();
  for (const EventRule& e : kEvents) events.push_back(e.event);
  return nlohmann::json{{"events", events},
                        {"signature", "hmac-sha1/base64-of-hex"},
                        {"sender_allowlist", !config().allow_ips.empty()}}
      .dump();
}

Result<WebhookResult> ZadarmaAdapter::Echo(const net::HttpRequest& request) const {
  std::optional<std::string> echo = request.QueryParam("zd_echo");
  if (!echo || !IsEchoText(*echo)) {
    return refusals().Refuse(
        Status::InvalidArgument(fmt::format(
            "GET needs ?zd_echo= with 1 to {} characters of [A-Za-z0-9_-]", kMaxEchoBytes)),
        "body", request);
  }
  WebhookResult result;
  result.accepted = net::HttpResponse::Text(200, *echo);
  return result;
}

Result<WebhookResult> ZadarmaAdapter::HandleWebhook(const net::HttpRequest& request) {
  if (Status sender = CheckSender(request); !sender.ok()) return sender;
  if (request.method == "GET") return Echo(request);
  Result<kit::WebhookBody> form = kit::WebhookBody::Parse(request.body, kit::BodyFormat::kForm);
  if (!form.ok()) return refusals().Refuse(form.status(), "body", request);
  const std::optional<std::string> event = form->Field("event");
  const EventRule* rule = event ? FindEvent(*event) : nullptr;
  if (rule == nullptr) {
    return refusals().Refuse(
        Status::InvalidArgument(event ? "event \"" + event->substr(0, 40) + "\" is not served"
                                      : std::string("the form has no event field")),
        "body", request);
  }
  std::optional<std::string_view> presented = request.headers.Get("Signature");
  net::SignatureScheme::Inputs inputs;
  inputs.field = [&form](std::string_view name) { return RawField(*form, name); };
  if (!presented || !SchemeFor(*rule).Verify(config().signing_key.Reveal(), inputs, *presented)) {
    return refusals().Refuse(Status::Unauthenticated("missing or wrong Signature"), "signature",
                             request);
  }
  std::string key(rule->key_prefix);
  for (std::string_view field : rule->key_fields) {
    std::optional<std::string> part = form->Field(field);
    if (!part || part->size() > kMaxIdBytes) {
      return refusals().Refuse(Status::InvalidArgument(fmt::format(
                                   "{}: \"{}\" is missing, empty or longer than {} bytes",
                                   rule->event, field, kMaxIdBytes)),
                               "body", request);
    }
    key += ':';
    key += *part;
  }
  std::optional<std::string> call = form->Field("pbx_call_id");
  if (!call || call->size() > kMaxIdBytes) {
    return refusals().Refuse(
        Status::InvalidArgument(fmt::format("{}: \"pbx_call_id\" is missing, empty or longer "
                                            "than {} bytes",
                                            rule->event, kMaxIdBytes)),
        "body", request);
  }
  InboundEvent out;
  out.idempotency_key = std::move(key);
  out.ordering_key = std::move(*call);
  out.kind = "zadarma_" + Lower(rule->event.substr(7));  // "zadarma_end"
  out.payload = form->Payload(request.body);
  WebhookResult result;
  result.events.push_back(std::move(out));
  if (std::optional<kit::MissedCall> missed = MissedCallOf(*form)) {
    if (auto task = kit::MissedCallTask(config().missed_calls, *missed)) {
      result.events.push_back(std::move(*task));
    }
  }
  if (std::optional<kit::AnsweredCall> answered = AnsweredCallOf(*form)) {
    if (auto closure = kit::MissedCallClosure(config().missed_calls, *answered)) {
      result.events.push_back(std::move(*closure));
    }
  }
  result.accepted = net::HttpResponse::Text(200, "");
  return result;
}

}  // namespace crmhub::adapters::zadarma
