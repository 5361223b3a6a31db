#include "adapters/yookassa/yookassa_sim.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "base/json_get.h"
#include "net/hmac.h"

namespace crmhub::adapters::yookassa {
namespace {

using nlohmann::json;
using simkit::SimPayment;

// README §1's error shape.
net::HttpResponse YooKassaError(int status, std::string_view message) {
  const char* code = status == 401   ? "invalid_credentials"
                     : status == 404 ? "not_found"
                     : status == 429 ? "too_many_requests"
                     : status >= 500 ? "internal_server_error"
                                     : "invalid_request";
  return net::HttpResponse::Json(
      status, json{{"type", "error"}, {"code", code}, {"description", message}}.dump());
}

simkit::PaymentProvider Provider() {
  return {.system = "yookassa",
          .credential_form = "SHOP_ID:SECRET_KEY",
          .default_key = "sim-shop",
          .default_secret = "sim-secret-key",
          .salt = 0x796f6f6b,
          .error = YooKassaError};
}

}  // namespace

YooKassaSimulator::YooKassaSimulator(const YooKassaSimOptions& options, Clock& clock)
    : PaymentProviderSimulator(options, clock, Provider(),
                               [this](simkit::SimPipeline::Options& o,
                                      const simkit::CredentialPair& c) { Configure(this, o, c); }) {
  for (const SimPayment& p : payments()) by_id_[PaymentId(p)] = &p;
}

YooKassaSimulator::~YooKassaSimulator() { Stop(); }

void YooKassaSimulator::Configure(YooKassaSimulator* self, simkit::SimPipeline::Options& o,
                                  const simkit::CredentialPair& credentials) {
  o.dialect.auth_headers = {"Authorization"};
  o.dialect.accepted = {
      {.secret = "Basic " + net::Base64Encode(credentials.key + ":" + credentials.secret),
       .account = credentials.key}};
  o.dialect.unauthorized = [](bool) { return YooKassaError(401, "wrong shop id or secret key"); };
  o.routes = {
      {.method = "GET",
       .path = "/v3/payments/{}",
       .handler = [self](const simkit::SimRequest& r) { return self->GetPayment(r); }},
      {.method = "GET",
       .path = "/v3/refunds/{}",
       .handler = [](const simkit::SimRequest&) { return YooKassaError(404, "no such refund"); }},
      {.method = "POST",
       .path = "/v3/payments",
       .json_body = true,
       .handler = [self](const simkit::SimRequest& r) { return self->CreatePayment(r); }}};
}

std::string YooKassaSimulator::PaymentId(const SimPayment& p) const {
  return fmt::format("2f{:06x}-000f-5000-9000-{:012x}", p.index, p.index * 7919 + 11);
}

std::string YooKassaSimulator::FinalStatus(const SimPayment& p) const {
  return p.paid ? "succeeded" : "canceled";
}

json YooKassaSimulator::Object(const SimPayment& p, SystemTime at) const {
  std::string status = "pending";
  if (at >= p.ended) {
    status = p.paid ? "succeeded" : "canceled";
  } else if (p.two_stage && at >= p.authorized) {
    status = "waiting_for_capture";
  }
  return {{"id", PaymentId(p)},
          {"status", status},
          {"paid", status == "succeeded" || status == "waiting_for_capture"},
          {"amount", {{"value", p.Amount()}, {"currency", "RUB"}}},
          {"description", fmt::format("Order {}", p.order_id)},
          {"metadata", {{"order_id", p.order_id}}},
          {"refundable", status == "succeeded"},
          {"test", true}};
}

std::vector<simkit::Push> YooKassaSimulator::Pushes() const {
  std::vector<simkit::Push> out;
  auto push = [&](const SimPayment& p, SystemTime at) {
    const json object = Object(p, at);
    out.push_back(
        {.path = "",
         .headers = {{"Content-Type", "application/json"}},
         .body =
             json{{"type", "notification"},
                  {"event", "payment." + std::string(JsonString(object, "status").value_or(""))},
                  {"object", object}}
                 .dump(),
         .at = at});
  };
  for (const SimPayment& p : payments()) {
    if (p.two_stage) push(p, p.authorized);
    push(p, p.ended);
  }
  return out;
}

net::HttpResponse YooKassaSimulator::GetPayment(const simkit::SimRequest& r) const {
  auto it = by_id_.find(r.params.at(0));
  if (it == by_id_.end()) {
    std::lock_guard lock(mu_);
    for (const auto& [key, created] : created_) {
      Result<json> answer = ParseJson(created.second);
      if (answer.ok() &&
          JsonString(*answer, "id") == std::optional<std::string_view>(r.params[0])) {
        return net::HttpResponse::Json(200, created.second);
      }
    }
    return YooKassaError(404, "no such payment");
  }
  return net::HttpResponse::Json(200, Object(*it->second, clock().Now()).dump());
}

net::HttpResponse YooKassaSimulator::CreatePayment(const simkit::SimRequest& r) {
  const std::string key(r.http.headers.Get("Idempotence-Key").value_or(""));
  if (key.empty() || key.size() > 64) {
    return net::HttpResponse::Json(
        400, json{{"type", "error"},
                  {"code", "invalid_request"},
                  {"description",
                   key.empty() ? "Idempotence key is missing" : "Idempotence key is too long"},
                  {"parameter", "Idempotence-Key"}}
                 .dump());
  }
  const json* amount = JsonObject(r.body, "amount");
  if (amount == nullptr || !JsonString(*amount, "value") || !JsonString(*amount, "currency")) {
    return YooKassaError(400, "amount.value and amount.currency are required");
  }
  std::lock_guard lock(mu_);
  auto it = created_.find(key);
  if (it != created_.end()) {
    if (it->second.first != r.http.body) {
      return YooKassaError(400, "the Idempotence-Key was used with another request");
    }
    return net::HttpResponse::Json(200, it->second.second);
  }
  const std::string id =
      fmt::format("3a{:06x}-000f-5000-a000-{:012x}", created_.size(), created_.size() * 104729 + 3);
  json payment = {
      {"id", id},
      {"status", "pending"},
      {"paid", false},
      {"amount", *amount},
      {"confirmation",
       {{"type", "redirect"},
        {"confirmation_url", "https://yoomoney.ru/checkout/payments/v2/contract?orderId=" + id}}},
      {"metadata",
       JsonObject(r.body, "metadata") ? *JsonObject(r.body, "metadata") : json::object()},
      {"test", true}};
  created_[key] = {r.http.body, payment.dump()};
  return net::HttpResponse::Json(200, payment.dump());
}

size_t YooKassaSimulator::CreatedPayments() const {
  std::lock_guard lock(mu_);
  return created_.size();
}

simkit::AdapterWiring YooKassaSimulator::Wiring() const {
  return {.type = "yookassa",
          .keys = fmt::format("shop_id = {}\nbase_url = {}\nallow_ips = [\"127.0.0.0/8\"]\n",
                              simkit::TomlString(credentials().key),
                              simkit::TomlString(base_url() + "/v3")),
          .secrets = {{"secret_key_file", credentials().secret}}};
}

simkit::SimulatorType YooKassaSimulatorType() {
  return {.name = "yookassa",
          .description =
              "YooKassa API v3: payment notifications pushed to --target, "
              "GET/POST /v3/payments served (--tokens SHOP_ID:SECRET_KEY)",
          .url_key = "base_url",
          .extra_options = {{"target", "the URL notifications go to (<crmhub>/hooks/<id>)"}},
          .create = simkit::CreatePaymentSimulator<YooKassaSimulator>(Provider())};
}

}  // namespace crmhub::adapters::yookassa
