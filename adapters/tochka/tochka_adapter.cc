#include "adapters/tochka/tochka_adapter.h"

#include <nlohmann/json.hpp>

#include "adapters/kit/bank_payment_identity.h"
#include "base/json_get.h"
#include "net/hmac.h"

namespace crmhub::adapters::tochka {
namespace {

using nlohmann::json;

std::string Str(const json& obj, const char* key) {
  return std::string(JsonString(obj, key).value_or(""));
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The 20 digits of "<account>/<BIC>" or of an account alone.
std::string AccountNumber(std::string_view account) {
  return std::string(account.substr(0, account.find('/')));
}

// A bank payment (incomingPayment / outgoingPayment): the record as Tochka
// sent it, plus "_direction", "_status" and the shared dedup identity.
Result<json> PaymentRecord(json payload, bool incoming) {
  const json* payer = JsonObject(payload, "SidePayer");
  const json* recipient = JsonObject(payload, "SideRecipient");
  std::optional<std::string_view> payment_id = JsonString(payload, "paymentId");
  if (payer == nullptr || recipient == nullptr || !payment_id || payment_id->empty()) {
    return Status::InvalidArgument(
        "a payment webhook without SidePayer, SideRecipient or paymentId");
  }
  kit::BankPaymentFacts facts;
  facts.date = Str(payload, "date");
  facts.number = Str(payload, "documentNumber");
  std::optional<int64_t> amount = kit::ParseRoubles(Str(*payer, "amount"));
  if (!amount) return Status::InvalidArgument("SidePayer.amount is not an amount");
  facts.amount_minor = *amount;
  facts.payer_inn = Str(*payer, "inn");
  facts.payer_account = Str(*payer, "account");
  facts.payee_account = Str(*recipient, "account");
  const std::string identity = kit::BankPaymentIdentity(facts);
  payload["_direction"] = incoming ? "in" : "out";
  payload["_status"] = "booked";
  payload["_identity"] = identity;
  // A webhook is one payment: its occurrence is the first. Two real
  // identical payments are told apart by the statement (docs/adapters/tochka.md).
  payload["_occurrence"] = 1;
  payload["_id"] = identity + "#1";
  return payload;
}

}  // namespace

Result<WebhookResult> TochkaAdapter::HandleWebhook(const net::HttpRequest& request) {
  Result<std::string> verified = verifier_->Verify(request.body, clock_.Now());
  if (!verified.ok()) return verified.status();
  Result<json> parsed = ParseJson(*verified);
  if (!parsed.ok())
    return Status::InvalidArgument("the JWT's payload: " + parsed.status().message());
  json payload = std::move(parsed).value();
  const std::string customer = Str(payload, "customerCode");
  if (customer != config_.customer_code) {
    return Status::PermissionDenied("the webhook is for another customerCode");
  }
  const std::string type = Str(payload, "webhookType");
  InboundEvent e;
  e.headers = {{"tochka_webhook", type}};
  if (type == "incomingPayment" || type == "outgoingPayment") {
    Result<json> record = PaymentRecord(std::move(payload), type == "incomingPayment");
    if (!record.ok()) return record.status();
    const std::string account = AccountNumber(
        Str(*JsonObject(*record, type == "incomingPayment" ? "SideRecipient" : "SidePayer"),
            "account"));
    (*record)["_account"] = account;
    if (!config_.accounts.empty()) {
      bool ours = false;
      for (const std::string& a : config_.accounts) ours = ours || AccountNumber(a) == account;
      if (!ours) return Status::PermissionDenied("the payment is for an account not configured");
    }
    // A transfer between two accounts of ours at Tochka is both an incoming
    // and an outgoing payment of one paymentId: the type is part of the key.
    e.idempotency_key = "tochka:" + type + ":" + Str(*record, "paymentId");
    e.ordering_key = type + ":" + Str(*record, "_identity");
    e.kind = "bank_transaction";
    e.payload = Dump(*record);
  } else if (type == "incomingSbpPayment" || type == "incomingSbpB2BPayment") {
    std::string operation = Str(payload, "operationId");
    // The B2B notification carries no operation id: the notification itself
    // (its verified payload) is the identity, so a redelivery is a duplicate.
    if (operation.empty()) operation = "payload-" + net::Sha256Hex(*verified).substr(0, 32);
    payload["_operation"] = operation;
    e.idempotency_key = "tochka:sbp:" + operation;
    e.ordering_key = operation;
    e.kind = "bank_transaction";
    e.payload = Dump(payload);
  } else if (type == "acquiringInternetPayment") {
    const std::string operation = Str(payload, "operationId");
    if (operation.empty())
      return Status::InvalidArgument("acquiringInternetPayment without operationId");
    e.idempotency_key = "tochka:acquiring:" + operation + ":" + Str(payload, "status");
    e.ordering_key = operation;
    e.kind = "payment";
    e.payload = Dump(payload);
  } else {
    return Status::InvalidArgument("unknown webhookType \"" + type + "\"");
  }
  WebhookResult result;
  result.events.push_back(std::move(e));
  // Tochka resends anything but 200 thirty times, every 10 s (README §2).
  result.accepted = net::HttpResponse::Text(200, "");
  return result;
}

}  // namespace crmhub::adapters::tochka
