#include "adapters/cloudpayments/cloudpayments_adapter.h"

#include <fmt/format.h>

#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "adapters/kit/webhook_fields.h"
#include "base/json_get.h"

namespace crmhub::adapters::cloudpayments {
namespace {

net::SignatureScheme HmacScheme() {
  return net::SignatureScheme::Parse("hmac-sha256", "base64", "{body}").value();
}

// Notification types by path; those that queue nothing are answered only.
struct Path {
  std::string_view sub_path;
  bool queues;
};
constexpr Path kPaths[] = {{"", true},        {"pay", true},        {"fail", true},
                           {"confirm", true}, {"refund", true},     {"cancel", true},
                           {"check", false},  {"recurrent", false}, {"receipt", false}};

const Path* FindPath(std::string_view sub_path) {
  for (const Path& p : kPaths) {
    if (p.sub_path == sub_path) return &p;
  }
  return nullptr;
}

net::HttpResponse CodeZero() { return net::HttpResponse::Json(200, R"({"code":0})"); }

bool IsJson(const net::HttpRequest& request) {
  return request.headers.Get("Content-Type").value_or("").starts_with("application/json");
}

}  // namespace

std::string ContentHmac(std::string_view api_secret, std::string_view body) {
  net::SignatureScheme::Inputs inputs;
  inputs.body = body;
  return HmacScheme().Compute(api_secret, inputs).value();
}

CloudPaymentsAdapter::CloudPaymentsAdapter(CloudPaymentsConfig config, MetricsRegistry* metrics)
    : PaymentAdapter(std::move(config), "cloudpayments", metrics), hmac_(HmacScheme()) {}

std::string CloudPaymentsAdapter::DescribeJson() const {
  return nlohmann::json{{"public_id", config().account},
                        {"signature", "Content-HMAC: " + hmac_.Describe()},
                        {"sender_allowlist", !config().allow_ips.empty()}}
      .dump();
}

bool CloudPaymentsAdapter::ServesPath(std::string_view sub_path) const {
  return FindPath(sub_path) != nullptr;
}

Result<WebhookResult> CloudPaymentsAdapter::Handle(const net::HttpRequest& request) {
  if (Status sender = CheckSender(request); !sender.ok()) return sender;
  const Path* path = FindPath(WebhookSubPath(request.path, id()));
  if (path == nullptr) return Malformed("no such CloudPayments notification path", request);
  const std::string_view presented = request.headers.Get("Content-HMAC").value_or("");
  net::SignatureScheme::Inputs inputs;
  inputs.body = request.body;
  if (presented.empty() || !hmac_.Verify(config().secrets.at(0).Reveal(), inputs, presented)) {
    return Refuse(Status::Unauthenticated("missing or wrong Content-HMAC"), "signature", request);
  }
  WebhookResult result;
  result.accepted = CodeZero();
  if (!path->queues) return result;

  // Signed, so from CloudPayments: what follows is a change in what it sends.
  Result<kit::WebhookBody> body = kit::WebhookBody::Parse(
      request.body, IsJson(request) ? kit::BodyFormat::kJson : kit::BodyFormat::kForm);
  if (!body.ok()) return Malformed(body.status().message(), request);
  if (!body->document().is_object()) return Malformed("the body is not an object", request);
  const std::optional<std::string> transaction = kit::PaymentId(*body, "TransactionId");
  if (!transaction) {
    return Malformed("TransactionId is missing or not an id", request);
  }
  const std::optional<std::string> operation = body->Field("OperationType");
  if (operation == "Refund" || path->sub_path == "refund") {
    const std::optional<std::string> payment = kit::PaymentId(*body, "PaymentTransactionId");
    if (!payment) return Malformed("a refund without a PaymentTransactionId", request);
    result.events.push_back(kit::PaymentRecord(kit::PaymentKind::kRefund, "refund:" + *transaction,
                                               *payment, body->Payload(request.body)));
    return result;
  }
  const std::optional<std::string> status = kit::PaymentId(*body, "Status");
  if (!status ||
      (body->format() == kit::BodyFormat::kJson && !JsonString(body->document(), "Status"))) {
    return Malformed("Status is missing or not a string", request);
  }
  result.events.push_back(kit::PaymentRecord(kit::PaymentKind::kPayment,
                                             fmt::format("payment:{}:{}", *transaction, *status),
                                             *transaction, body->Payload(request.body)));
  return result;
}

}  // namespace crmhub::adapters::cloudpayments
