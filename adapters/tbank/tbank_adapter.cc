#include "adapters/tbank/tbank_adapter.h"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <utility>

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

TbankAdapter::TbankAdapter(TbankConfig config, MetricsRegistry* metrics)
    : PaymentAdapter(std::move(config), "tbank", metrics) {}

std::string TbankAdapter::DescribeJson() const {
  return nlohmann::json{{"terminal_key", config().account},
                        {"signature", "Token: sha256 over the sorted root-level values + Password"},
                        {"sender_allowlist", !config().allow_ips.empty()}}
      .dump();
}

Result<WebhookResult> TbankAdapter::HandleWebhook(const net::HttpRequest& request) {
  if (Status sender = CheckSender(request); !sender.ok()) return sender;
  Result<nlohmann::json> body = ParseJson(request.body);
  if (!body.ok() || !body->is_object()) {
    return Malformed("the body is not a JSON object", request);
  }
  if (JsonString(*body, "TerminalKey") != std::optional<std::string_view>(config().account)) {
    return refusals().Refuse(Status::Unauthenticated("missing or unknown TerminalKey"), "api_key",
                             request);
  }
  const std::optional<std::string_view> token = JsonString(*body, "Token");
  if (!token || !ConstantTimeEquals(TbankToken(*body, config().secrets.at(0).Reveal()), *token)) {
    return refusals().Refuse(Status::Unauthenticated("missing or wrong Token"), "signature",
                             request);
  }
  // Signed, so from T-Bank: what follows is a change in what it sends.
  const std::optional<std::string> payment = kit::PaymentId(JsonMember(*body, "PaymentId"));
  if (!payment) return Malformed("PaymentId is missing or not an id", request);
  const std::optional<std::string> status = kit::PaymentId(JsonMember(*body, "Status"));
  if (!status || !JsonString(*body, "Status")) {
    return Malformed("Status is missing or not a string", request);
  }
  WebhookResult result;
  result.events.push_back(kit::PaymentRecord(
      kit::PaymentKind::kPayment, fmt::format("{}:{}", *payment, *status), *payment, request.body));
  result.accepted = net::HttpResponse::Text(200, "OK");
  return result;
}

}  // namespace crmhub::adapters::tbank
