#include "adapters/robokassa/robokassa_adapter.h"

#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "adapters/kit/target.h"
#include "adapters/kit/webhook_fields.h"
#include "base/json_get.h"
#include "base/secret.h"
#include "net/api_client.h"
#include "net/hmac.h"

namespace crmhub::adapters::robokassa {
namespace {

// Robokassa's documented ids are invoice numbers: positive integers.
bool IsInvoiceId(std::string_view text) {
  const std::optional<int64_t> n = ParseDecimalInt(text);
  return n && *n > 0 && std::to_string(*n) == text;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsShp(std::string_view name) { return AsciiLower(name.substr(0, 4)) == "shp_"; }

// OutSum as a command gives it: decimal roubles, at most two decimals,
// more than zero ("100.00", "100", "0.5").
bool IsOutSum(std::string_view text) {
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 15 || frac.size() > 2) return false;
  if (dot != std::string_view::npos && frac.empty()) return false;
  bool nonzero = false;
  for (std::string_view part : {whole, frac}) {
    for (char c : part) {
      if (c < '0' || c > '9') return false;
      nonzero = nonzero || c != '0';
    }
  }
  return nonzero;
}

}  // namespace

const std::vector<std::string>& HashAlgorithms() {
  static const std::vector<std::string> kNames = {"md5", "sha1", "sha256", "sha384", "sha512"};
  return kNames;
}

std::optional<std::string> RobokassaHash(std::string_view algorithm, std::string_view text) {
  static constexpr std::pair<std::string_view, net::HmacAlgorithm> kHashes[] = {
      {"md5", net::HmacAlgorithm::kMd5},
      {"sha1", net::HmacAlgorithm::kSha1},
      {"sha256", net::HmacAlgorithm::kSha256},
      {"sha384", net::HmacAlgorithm::kSha384},
      {"sha512", net::HmacAlgorithm::kSha512}};
  for (const auto& [name, hash] : kHashes) {
    if (name == algorithm) return net::HexEncode(net::Hash(hash, text));
  }
  return std::nullopt;
}

std::string ResultSignatureText(std::string_view out_sum, std::string_view inv_id,
                                std::string_view password2,
                                std::vector<std::pair<std::string, std::string>> shp) {
  std::sort(shp.begin(), shp.end());
  std::string text =
      std::string(out_sum) + ":" + std::string(inv_id) + ":" + std::string(password2);
  for (const auto& [name, value] : shp) text += ":" + name + "=" + value;
  return text;
}

std::string LinkSignatureText(std::string_view merchant_login, std::string_view out_sum,
                              std::string_view inv_id, std::string_view password1) {
  return fmt::format("{}:{}:{}:{}", merchant_login, out_sum, inv_id, password1);
}

std::vector<std::string> PublishedSenders() { return {"185.59.216.65", "185.59.217.65"}; }

RobokassaAdapter::RobokassaAdapter(RobokassaConfig config, MetricsRegistry* metrics)
    : PaymentAdapter(std::move(config), "robokassa", metrics) {}

std::vector<std::string> RobokassaAdapter::commands() const {
  if (config().link_url.empty()) return {};
  return {"create_payment"};
}

std::vector<DeliveryOutcome> RobokassaAdapter::Deliver(std::span<const Command> batch) {
  std::vector<DeliveryOutcome> out(batch.size());
  for (const kit::TargetCommand& c :
       kit::ReadCommands(batch, {"create_payment"}, "robokassa", out)) {
    if (config().link_url.empty()) {
      out[c.index] = DeliveryOutcome::Fail(
          "robokassa: create_payment needs payment_url (the payment page) in the adapter's config");
      continue;
    }
    const std::optional<std::string> inv = JsonScalarText(c.item, "order_id");
    const std::optional<std::string> sum = JsonScalarText(c.item, "amount");
    if (!inv || !IsInvoiceId(*inv) || !sum || !IsOutSum(*sum)) {
      out[c.index] = DeliveryOutcome::Fail(
          "robokassa: create_payment needs order_id (the InvId: a positive integer) and a "
          "positive amount in roubles (\"100.00\")");
      continue;
    }
    const std::optional<std::string> signature = RobokassaHash(
        config().choice,
        LinkSignatureText(config().account, *sum, *inv, config().secrets.at(0).Reveal()));
    if (!signature) {  // hash_algorithm is one of HashAlgorithms(): the config's check
      out[c.index] = DeliveryOutcome::Fail("robokassa: unknown hash_algorithm " + config().choice);
      continue;
    }
    std::string url = fmt::format("{}?MerchantLogin={}&OutSum={}&InvId={}", config().link_url,
                                  net::UrlEncode(config().account), *sum, *inv);
    if (auto d = JsonScalarText(c.item, "description"); d && !d->empty()) {
      url += "&Description=" + net::UrlEncode(*d);
    }
    url += "&SignatureValue=" + *signature;
    const nlohmann::json record = {
        {"event", "payment_link"}, {"InvId", *inv}, {"OutSum", *sum}, {"PaymentURL", url}};
    out[c.index] = DeliveryOutcome::Ok(
        {kit::PaymentRecord(kit::PaymentKind::kPayment, "link:" + *inv, *inv, record.dump())});
  }
  return out;
}

std::string RobokassaAdapter::DescribeJson() const {
  return nlohmann::json{
      {"merchant_login", config().account},
      {"signature", config().choice + "(OutSum:InvId:Password#2[:Shp_...]) as SignatureValue"},
      {"sender_allowlist", !config().allow_ips.empty()},
      {"payment_links", !config().link_url.empty()}}
      .dump();
}

Result<WebhookResult> RobokassaAdapter::Handle(const net::HttpRequest& request) {
  if (Status sender = CheckSender(request); !sender.ok()) return sender;
  Result<std::vector<std::pair<std::string, std::string>>> form = kit::ParseForm(request.body);
  if (!form.ok()) return Malformed(form.status().message(), request);
  std::optional<std::string> out_sum, inv_id, signature;
  std::vector<std::pair<std::string, std::string>> shp;
  for (const auto& [name, value] : *form) {
    std::optional<std::string>* slot = name == "OutSum"           ? &out_sum
                                       : name == "InvId"          ? &inv_id
                                       : name == "SignatureValue" ? &signature
                                                                  : nullptr;
    if (slot != nullptr) {
      if (*slot) return Malformed(name + " is repeated", request);
      *slot = value;
    } else if (IsShp(name)) {
      shp.emplace_back(name, value);
    }
  }
  const std::optional<std::string> expected =
      RobokassaHash(config().choice, ResultSignatureText(out_sum.value_or(""), inv_id.value_or(""),
                                                         config().secrets.at(1).Reveal(), shp));
  if (!signature || !expected || !ConstantTimeEquals(*expected, AsciiLower(*signature))) {
    return Refuse(Status::Unauthenticated("missing or wrong SignatureValue"), "signature", request);
  }
  // Signed, so from Robokassa: what follows is a change in what it sends.
  if (!inv_id || !IsInvoiceId(*inv_id)) {
    return Malformed("InvId is missing or not a positive integer", request);
  }
  if (!out_sum || out_sum->empty()) return Malformed("OutSum is missing", request);
  Result<kit::WebhookBody> body = kit::WebhookBody::Parse(request.body, kit::BodyFormat::kForm);
  if (!body.ok()) return Malformed(body.status().message(), request);
  WebhookResult result;
  result.events.push_back(kit::PaymentRecord(kit::PaymentKind::kPayment, *inv_id, *inv_id,
                                             body->Payload(request.body)));
  result.accepted = net::HttpResponse::Text(200, "OK" + *inv_id);
  return result;
}

}  // namespace crmhub::adapters::robokassa
