#include "adapters/tbank/tbank_adapter.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>
#include <optional>
#include <utility>

#include "adapters/kit/target.h"
#include "base/json_get.h"
#include "base/secret.h"
#include "net/hmac.h"

namespace crmhub::adapters::tbank {

std::string TbankToken(const nlohmann::json& params, std::string_view password) {
  std::map<std::string, std::string, std::less<>> values;
  if (params.is_object()) {
    for (const auto& [key, value] : params.items()) {
      if (key == "Token" || value.is_object() || value.is_array() || value.is_null()) continue;
      if (std::optional<std::string> text = JsonScalarText(value)) values[key] = std::move(*text);
    }
  }
  values["Password"] = std::string(password);
  std::string message;
  for (const auto& [key, value] : values) message += value;
  return net::Sha256Hex(message);
}

bool TbankFinalStatus(std::string_view status) {
  for (std::string_view final :
       {"CONFIRMED", "REVERSED", "PARTIAL_REVERSED", "REFUNDED", "PARTIAL_REFUNDED", "REJECTED",
        "CANCELED", "DEADLINE_EXPIRED", "AUTH_FAIL"}) {
    if (status == final) return true;
  }
  return false;
}

namespace {

constexpr char kPayment[] = "payment";

TbankClientOptions ClientOptions(const TbankConfig& c) {
  TbankClientOptions o;
  if (!c.base_url.empty()) o.base_url = c.base_url;
  o.terminal_key = c.account;
  o.password = c.secrets.at(0);
  o.timeout = c.request_timeout;
  return o;
}

// "1500.00" (or "1500", "1500.5") as kopecks; nullopt for anything else,
// zero and more than two decimals.
std::optional<int64_t> Kopecks(std::string_view text) {
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || frac.size() > 2 || whole.size() > 15) return std::nullopt;
  for (std::string_view part : {whole, frac}) {
    for (char ch : part) {
      if (ch < '0' || ch > '9') return std::nullopt;
    }
  }
  const std::optional<int64_t> w = ParseDecimalInt(whole);
  int64_t f = 0;
  for (size_t i = 0; i < 2; ++i) f = f * 10 + (i < frac.size() ? frac[i] - '0' : 0);
  if (!w || *w * 100 + f <= 0) return std::nullopt;
  return *w * 100 + f;
}

}  // namespace

TbankAdapter::TbankAdapter(TbankConfig config, MetricsRegistry* metrics)
    : TbankAdapter(std::move(config), metrics, kit::NoApiTransport("tbank"), nullptr) {}

TbankAdapter::TbankAdapter(TbankConfig config, const AdapterContext& context)
    : TbankAdapter(config, context.metrics, kit::ApiTransport("tbank", config.id, context),
                   context.clock) {}

TbankAdapter::TbankAdapter(TbankConfig config, MetricsRegistry* metrics, net::Transport transport,
                           const Clock& clock)
    : TbankAdapter(std::move(config), metrics, std::move(transport), &clock) {}

TbankAdapter::TbankAdapter(TbankConfig config, MetricsRegistry* metrics, net::Transport transport,
                           const Clock* clock)
    : PaymentAdapter(config, "tbank", metrics),
      client_(ClientOptions(config), std::move(transport),
              clock != nullptr ? *clock : static_cast<const Clock&>(system_clock_)),
      sweep_(config.reconcile_after, config.reconcile_every,
             clock != nullptr ? *clock : static_cast<const Clock&>(system_clock_)) {}

std::vector<DeliveryOutcome> TbankAdapter::Deliver(std::span<const Command> batch) {
  std::vector<DeliveryOutcome> out(batch.size());
  for (const kit::TargetCommand& c :
       kit::ReadCommands(batch, {"create_payment", "refund"}, "tbank", out)) {
    out[c.index] = c.name == "refund" ? Refund(c) : CreatePayment(c);
  }
  return out;
}

DeliveryOutcome TbankAdapter::CreatePayment(const kit::TargetCommand& c) {
  const std::optional<std::string> order = JsonScalarText(c.item, "order_id");
  const std::optional<int64_t> amount = Kopecks(JsonScalarText(c.item, "amount").value_or(""));
  if (!order || order->empty() || order->size() > 36 || !amount) {
    return DeliveryOutcome::Fail(
        "tbank: create_payment needs order_id (at most 36 characters) and a positive amount "
        "in roubles (\"1500.00\")");
  }
  nlohmann::json params = {{"Amount", *amount}, {"OrderId", *order}};
  if (auto d = JsonScalarText(c.item, "description")) params["Description"] = *d;
  net::ApiResult<nlohmann::json> answer = client_.Call("Init", std::move(params));
  if (!answer.ok()) return kit::CommandOutcome(answer.error());
  const std::optional<std::string> payment = kit::PaymentId(JsonMember(*answer, "PaymentId"));
  const std::optional<std::string> status = kit::PaymentId(JsonMember(*answer, "Status"));
  if (payment) sweep_.Track(*payment, kPayment, *payment, TbankFinalStatus(status.value_or("")));
  std::vector<InboundEvent> learned;
  if (payment && status) {
    // Init's answer carries the notification's fields (PaymentId, Status,
    // Amount, OrderId) and the PaymentURL: the shipped rules map it.
    learned.push_back(kit::PaymentRecord(
        kit::PaymentKind::kPayment, fmt::format("{}:Init", *payment), *payment, answer->dump()));
  }
  spdlog::info("tbank {}: create_payment for order {}: PaymentId {}, PaymentURL {}", id(), *order,
               payment.value_or("?"), JsonScalarText(*answer, "PaymentURL").value_or("?"));
  return DeliveryOutcome::Ok(std::move(learned));
}

DeliveryOutcome TbankAdapter::Refund(const kit::TargetCommand& c) {
  const std::optional<std::string> payment = kit::PaymentId(JsonMember(c.item, "payment_id"));
  const nlohmann::json* amount_value = JsonMember(c.item, "amount");
  const std::optional<int64_t> amount =
      amount_value == nullptr ? std::nullopt
                              : Kopecks(JsonScalarText(c.item, "amount").value_or(""));
  if (!payment || (amount_value != nullptr && !amount)) {
    return DeliveryOutcome::Fail(
        "tbank: refund needs payment_id (T-Bank's PaymentId) and, for a part, a positive amount "
        "in roubles (\"500.00\")");
  }
  if (c.attempt > 1) {
    // T-Bank takes no idempotency key: an earlier try may have refunded.
    // Ask before cancelling again.
    net::ApiResult<nlohmann::json> state = GetState(*payment);
    if (!state.ok()) return kit::CommandOutcome(state.error());
    const std::string status(JsonString(*state, "Status").value_or(""));
    if (status == "REFUNDED" || status == "REVERSED") return DeliveryOutcome::Ok(StateOf(*payment));
    if (amount && status == "PARTIAL_REFUNDED") {
      return DeliveryOutcome::Fail(fmt::format(
          "tbank: refund of a part of payment {}: an earlier try may have refunded it (the "
          "payment is PARTIAL_REFUNDED) and T-Bank takes no idempotency key, so it is not sent "
          "again; see the payment in T-Bank's cabinet",
          *payment));
    }
  }
  const std::optional<int64_t> number = ParseDecimalInt(*payment);
  nlohmann::json params = {
      {"PaymentId", number ? nlohmann::json(*number) : nlohmann::json(*payment)}};
  if (amount) params["Amount"] = *amount;
  net::ApiResult<nlohmann::json> answer = client_.Call("Cancel", std::move(params));
  if (!answer.ok()) return kit::CommandOutcome(answer.error());
  spdlog::info("tbank {}: refund of payment {}: {}", id(), *payment,
               JsonScalarText(*answer, "Status").value_or("?"));
  return DeliveryOutcome::Ok(StateOf(*payment));
}

std::vector<InboundEvent> TbankAdapter::StateOf(const std::string& payment) {
  Result<InboundEvent> record = LookUpPayment(payment);
  if (record.ok()) return {std::move(*record)};
  // The sweep reads it again later and queues it once final.
  spdlog::warn("tbank {}: GetState {} after a refund: {}; the sweep reads it again", id(), payment,
               record.status().message());
  sweep_.Track(payment, kPayment, payment, false);
  return {};
}

std::string TbankAdapter::DescribeJson() const {
  return nlohmann::json{{"terminal_key", config().account},
                        {"signature", "Token: sha256 over the sorted root-level values + Password"},
                        {"sender_allowlist", !config().allow_ips.empty()}}
      .dump();
}

Result<WebhookResult> TbankAdapter::Handle(const net::HttpRequest& request) {
  if (Status sender = CheckSender(request); !sender.ok()) return sender;
  Result<nlohmann::json> body = ParseJson(request.body);
  if (!body.ok() || !body->is_object()) {
    return Malformed("the body is not a JSON object", request);
  }
  if (JsonString(*body, "TerminalKey") != std::optional<std::string_view>(config().account)) {
    return Refuse(Status::Unauthenticated("missing or unknown TerminalKey"), "api_key", request);
  }
  const std::optional<std::string_view> token = JsonString(*body, "Token");
  if (!token || !ConstantTimeEquals(TbankToken(*body, config().secrets.at(0).Reveal()), *token)) {
    return Refuse(Status::Unauthenticated("missing or wrong Token"), "signature", request);
  }
  // Signed, so from T-Bank: what follows is a change in what it sends.
  const std::optional<std::string> payment = kit::PaymentId(JsonMember(*body, "PaymentId"));
  if (!payment) return Malformed("PaymentId is missing or not an id", request);
  const std::optional<std::string> status = kit::PaymentId(JsonMember(*body, "Status"));
  if (!status || !JsonString(*body, "Status")) {
    return Malformed("Status is missing or not a string", request);
  }
  sweep_.Track(*payment, kPayment, *payment, TbankFinalStatus(*status));
  WebhookResult result;
  result.events.push_back(kit::PaymentRecord(
      kit::PaymentKind::kPayment, fmt::format("{}:{}", *payment, *status), *payment, request.body));
  result.accepted = net::HttpResponse::Text(200, "OK");
  return result;
}

net::ApiResult<nlohmann::json> TbankAdapter::GetState(const std::string& id) const {
  // PaymentId is a number in T-Bank's documents and a string in its
  // notifications' examples; ours came from one of those as text.
  const std::optional<int64_t> number = ParseDecimalInt(id);
  nlohmann::json params = {{"PaymentId", number ? nlohmann::json(*number) : nlohmann::json(id)}};
  return client_.Call("GetState", std::move(params));
}

Result<InboundEvent> TbankAdapter::LookUpPayment(const std::string& id) {
  net::ApiResult<nlohmann::json> state = GetState(id);
  if (!state.ok()) {
    if (state.error().kind == net::ApiError::Kind::kRejected) {
      return Status::NotFound(state.error().message);
    }
    return state.error().ToStatus();
  }
  const std::optional<std::string> status = kit::PaymentId(JsonMember(*state, "Status"));
  if (!status || kit::PaymentId(JsonMember(*state, "PaymentId")) != id) {
    return Status::Unavailable(
        fmt::format("tbank: GetState {} answered without that PaymentId or a Status", id));
  }
  return kit::PaymentRecord(kit::PaymentKind::kPayment, fmt::format("{}:{}", id, *status), id,
                            state->dump());
}

Result<PullResult> TbankAdapter::Pull(const std::optional<std::string>& cursor) {
  constexpr size_t kMaxReadsPerPull = 50;
  sweep_.Restore(cursor);
  PullResult result;
  for (const kit::PendingSweep::Entry& e : sweep_.Due(kMaxReadsPerPull)) {
    Result<InboundEvent> record = LookUpPayment(e.id);
    if (!record.ok()) {
      if (record.status().code() == StatusCode::kNotFound) {
        spdlog::warn("tbank {}: GetState does not name payment {} ({}); no longer re-read", id(),
                     e.id, record.status().message());
        sweep_.Forget(e.id);
        continue;
      }
      break;  // the API is down or throttling: the rest next time
    }
    // LookUpPayment checked that the answer names a Status.
    Result<nlohmann::json> state = ParseJson(record->payload);
    const bool final =
        state.ok() && TbankFinalStatus(JsonString(*state, "Status").value_or(std::string_view()));
    if (final) result.events.push_back(std::move(*record));
    sweep_.Track(e.id, e.kind, e.ordering_key, final);
  }
  result.next_cursor = sweep_.Cursor();
  return result;
}

}  // namespace crmhub::adapters::tbank
