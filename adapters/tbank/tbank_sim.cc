#include "adapters/tbank/tbank_sim.h"

#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "base/json_get.h"
#include "net/hmac.h"

namespace crmhub::adapters::tbank {
namespace {

using nlohmann::json;
using simkit::SimPayment;

// README §3, read again here: the root-level scalars and the Password,
// ordered by name, their values run together, SHA-256 in hex.
std::string Token(const json& body, const std::string& password) {
  std::vector<std::pair<std::string, std::string>> pairs = {{"Password", password}};
  for (const auto& [name, value] : body.items()) {
    if (name == "Token") continue;
    if (std::optional<std::string_view> text = AsString(value)) {
      pairs.emplace_back(name, std::string(*text));
    } else if (value.is_boolean() || value.is_number()) {
      pairs.emplace_back(name, value.dump());
    }
  }
  std::sort(pairs.begin(), pairs.end());
  std::string text;
  for (const auto& pair : pairs) text += pair.second;
  return net::HexEncode(net::Hash(net::HmacAlgorithm::kSha256, text));
}

net::HttpResponse TbankError(int status, std::string_view message) {
  return net::HttpResponse::Json(
      status,
      json{{"Success", false}, {"ErrorCode", std::to_string(status)}, {"Message", message}}.dump());
}

// A refusal of a well-formed request: 200 with Success false and T-Bank's
// error code in the body (its API answers errors so).
net::HttpResponse TbankRefusal(std::string_view code, std::string_view message) {
  return net::HttpResponse::Json(
      200, json{{"Success", false}, {"ErrorCode", code}, {"Message", message}}.dump());
}

simkit::PaymentProvider Provider() {
  return {.system = "tbank",
          .credential_form = "TERMINAL_KEY:PASSWORD",
          .default_key = "SimTerminal",
          .default_secret = "sim-password",
          .salt = 0x7462616e,
          .error = TbankError};
}

}  // namespace

TbankSimulator::TbankSimulator(const TbankSimOptions& options, Clock& clock)
    : PaymentProviderSimulator(
          options, clock, Provider(),
          [this](simkit::SimPipeline::Options& o, const simkit::CredentialPair&) {
            o.routes = {{.method = "POST",
                         .path = "/v2/GetState",
                         .json_body = true,
                         .handler = [this](const simkit::SimRequest& r) { return GetState(r); }},
                        {.method = "POST",
                         .path = "/v2/Init",
                         .json_body = true,
                         .handler = [this](const simkit::SimRequest& r) { return Init(r); }},
                        {.method = "POST",
                         .path = "/v2/Cancel",
                         .json_body = true,
                         .handler = [this](const simkit::SimRequest& r) { return Cancel(r); }}};
          }) {
  for (const SimPayment& p : payments()) by_id_[PaymentId(p)] = &p;
}

TbankSimulator::~TbankSimulator() { Stop(); }

std::string TbankSimulator::PaymentId(const SimPayment& p) const {
  return std::to_string(3000000000LL + p.index);
}

std::string TbankSimulator::FinalStatus(const SimPayment& p) const {
  if (p.paid) return "succeeded";
  return p.two_stage ? "canceled" : "failed";
}

std::vector<simkit::Push> TbankSimulator::Pushes() const {
  std::vector<simkit::Push> out;
  auto push = [&](const SimPayment& p, const char* status, bool success, SystemTime at) {
    json body = {{"TerminalKey", credentials().key},
                 {"OrderId", p.order_id},
                 {"Success", success},
                 {"Status", status},
                 {"PaymentId", PaymentId(p)},
                 {"ErrorCode", success ? "0" : "1051"},
                 {"Amount", p.amount_minor},
                 {"CardId", p.index},
                 {"Pan", "430000******0777"},
                 {"ExpDate", "1230"}};
    body["Token"] = Token(body, credentials().secret);
    out.push_back({.path = "",
                   .headers = {{"Content-Type", "application/json"}},
                   .body = body.dump(),
                   .at = at,
                   .expect_body = "OK"});
  };
  for (const SimPayment& p : payments()) {
    if (p.two_stage) {
      push(p, "AUTHORIZED", true, p.authorized);
      push(p, p.paid ? "CONFIRMED" : "REVERSED", true, p.ended);
    } else if (p.paid) {
      push(p, "AUTHORIZED", true, p.ended);
      push(p, "CONFIRMED", true, p.ended);
    } else {
      push(p, "REJECTED", false, p.ended);
    }
  }
  return out;
}

bool TbankSimulator::Signed(const json& body) const {
  return JsonString(body, "TerminalKey") == std::optional<std::string_view>(credentials().key) &&
         JsonString(body, "Token") ==
             std::optional<std::string_view>(Token(body, credentials().secret));
}

net::HttpResponse TbankSimulator::GetState(const simkit::SimRequest& r) const {
  if (!Signed(r.body)) return TbankRefusal("204", "wrong TerminalKey or Token");
  const std::optional<std::string> id = JsonScalarText(r.body, "PaymentId");
  auto it = id ? by_id_.find(*id) : by_id_.end();
  if (it == by_id_.end()) return TbankRefusal("7", "no such PaymentId");
  const SimPayment& p = *it->second;
  const std::string status = StatusNow(p);
  return net::HttpResponse::Json(200, json{{"Success", true},
                                           {"ErrorCode", "0"},
                                           {"TerminalKey", credentials().key},
                                           {"Status", status},
                                           {"PaymentId", *id},
                                           {"OrderId", p.order_id},
                                           {"Amount", p.amount_minor}}
                                          .dump());
}

net::HttpResponse TbankSimulator::Init(const simkit::SimRequest& r) {
  if (!Signed(r.body)) return TbankRefusal("204", "wrong TerminalKey or Token");
  const std::optional<std::string> order = JsonScalarText(r.body, "OrderId");
  const std::optional<int64_t> amount = JsonInt(r.body, "Amount");
  if (!order || order->empty() || !amount || *amount <= 0) {
    return TbankRefusal("9999", "OrderId and a positive Amount are required");
  }
  std::lock_guard lock(mu_);
  auto it = inits_.find(*order);
  if (it != inits_.end()) return net::HttpResponse::Json(200, it->second);
  const std::string id = std::to_string(4000000000LL + static_cast<int64_t>(inits_.size()));
  const std::string answer = json{
      {"Success", true},
      {"ErrorCode", "0"},
      {"TerminalKey", credentials().key},
      {"Status", "NEW"},
      {"PaymentId", id},
      {"OrderId", *order},
      {"Amount", *amount},
      {"PaymentURL", "https://securepay.tinkoff.ru/sim/" +
                         id}}.dump();
  inits_[*order] = answer;
  return net::HttpResponse::Json(200, answer);
}

std::string TbankSimulator::StatusNow(const SimPayment& p) const {
  const SystemTime now = clock().Now();
  if (now >= p.ended) {
    if (!p.paid) return p.two_stage ? "REVERSED" : "REJECTED";
    std::lock_guard lock(mu_);
    auto refunded = refunded_.find(PaymentId(p));
    if (refunded == refunded_.end()) return "CONFIRMED";
    return refunded->second >= p.amount_minor ? "REFUNDED" : "PARTIAL_REFUNDED";
  }
  if (p.two_stage && now >= p.authorized) return "AUTHORIZED";
  return "NEW";
}

net::HttpResponse TbankSimulator::Cancel(const simkit::SimRequest& r) {
  if (!Signed(r.body)) return TbankRefusal("204", "wrong TerminalKey or Token");
  const std::optional<std::string> id = JsonScalarText(r.body, "PaymentId");
  auto it = id ? by_id_.find(*id) : by_id_.end();
  if (it == by_id_.end()) return TbankRefusal("7", "no such PaymentId");
  const SimPayment& p = *it->second;
  const std::string before = StatusNow(p);
  if (before != "CONFIRMED" && before != "PARTIAL_REFUNDED") {
    return TbankRefusal("9999", "the payment is " + before + ": nothing to refund");
  }
  const json* amount_value = JsonMember(r.body, "Amount");
  const std::optional<int64_t> amount = JsonInt(r.body, "Amount");
  std::lock_guard lock(mu_);
  int64_t& refunded = refunded_[*id];
  const int64_t left = p.amount_minor - refunded;
  if (amount_value != nullptr && (!amount || *amount <= 0 || *amount > left)) {
    if (refunded == 0) refunded_.erase(*id);
    return TbankRefusal("9999", "Amount must be positive and at most what is left to refund");
  }
  refunded += amount.value_or(left);
  ++cancels_;
  return net::HttpResponse::Json(
      200, json{{"Success", true},
                {"ErrorCode", "0"},
                {"TerminalKey", credentials().key},
                {"Status", refunded >= p.amount_minor ? "REFUNDED" : "PARTIAL_REFUNDED"},
                {"PaymentId", *id},
                {"OrderId", p.order_id},
                {"OriginalAmount", p.amount_minor},
                {"NewAmount", p.amount_minor - refunded}}
               .dump());
}

size_t TbankSimulator::Cancels() const {
  std::lock_guard lock(mu_);
  return cancels_;
}

size_t TbankSimulator::Inits() const {
  std::lock_guard lock(mu_);
  return inits_.size();
}

simkit::AdapterWiring TbankSimulator::Wiring() const {
  return {.type = "tbank",
          .keys = fmt::format("terminal_key = {}\n", simkit::TomlString(credentials().key)),
          .secrets = {{"password_file", credentials().secret}}};
}

simkit::SimulatorType TbankSimulatorType() {
  return {.name = "tbank",
          .description =
              "T-Bank acquiring: payment notifications with Token pushed to --target, "
              "Init/GetState/Cancel served (--tokens TERMINAL_KEY:PASSWORD)",
          .url_key = "base_url",
          .extra_options = {{"target", "the NotificationURL (<crmhub>/hooks/<id>)"}},
          .create = simkit::CreatePaymentSimulator<TbankSimulator>(Provider())};
}

}  // namespace crmhub::adapters::tbank
