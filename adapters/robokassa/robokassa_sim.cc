#include "adapters/robokassa/robokassa_sim.h"

#include <fmt/format.h>

#include <cctype>

#include "base/secret.h"
#include "net/hmac.h"

namespace crmhub::adapters::robokassa {
namespace {

using simkit::SimPayment;

constexpr char kMerchantLogin[] = "sim-shop";

net::HttpResponse RobokassaError(int status, std::string_view message) {
  return net::HttpResponse::Text(status, std::string(message));
}

simkit::PaymentProvider Provider() {
  return {.system = "robokassa",
          .credential_form = "PASSWORD1:PASSWORD2",
          .default_key = "sim-password-1",
          .default_secret = "sim-password-2",
          .salt = 0x726f626f,
          .error = RobokassaError};
}

}  // namespace

RobokassaSimulator::RobokassaSimulator(const RobokassaSimOptions& options, Clock& clock)
    : PaymentProviderSimulator(
          options, clock, Provider(),
          [this](simkit::SimPipeline::Options& o, const simkit::CredentialPair&) {
            o.routes = {{.method = "GET",
                         .path = "/pay",
                         .handler = [this](const simkit::SimRequest& r) { return Page(r); }}};
          }) {}

RobokassaSimulator::~RobokassaSimulator() { Stop(); }

std::string RobokassaSimulator::PaymentId(const SimPayment& p) const {
  return std::to_string(p.index + 1);
}

std::string RobokassaSimulator::FinalStatus(const SimPayment& p) const {
  return p.paid ? "succeeded" : "";
}

std::vector<simkit::Push> RobokassaSimulator::Pushes() const {
  std::vector<simkit::Push> out;
  for (const SimPayment& p : payments()) {
    if (!p.paid) continue;
    const std::string inv = PaymentId(p), sum = p.Amount();
    std::string signature = net::HexEncode(net::Hash(
        net::HmacAlgorithm::kMd5,
        fmt::format("{}:{}:{}:Shp_order={}", sum, inv, credentials().secret, p.order_id)));
    for (char& c : signature) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out.push_back({.path = "",
                   .body = simkit::EncodeForm({{"OutSum", sum},
                                               {"InvId", inv},
                                               {"Fee", "0.00"},
                                               {"EMail", "buyer@example.com"},
                                               {"PaymentMethod", "BankCard"},
                                               {"Shp_order", p.order_id},
                                               {"SignatureValue", signature}}),
                   .at = p.ended,
                   .expect_body = "OK" + inv});
  }
  return out;
}

net::HttpResponse RobokassaSimulator::Page(const simkit::SimRequest& r) {
  const std::optional<std::string> login = r.http.QueryParam("MerchantLogin");
  const std::optional<std::string> sum = r.http.QueryParam("OutSum");
  const std::optional<std::string> inv = r.http.QueryParam("InvId");
  const std::optional<std::string> signature = r.http.QueryParam("SignatureValue");
  if (login != std::optional<std::string>(kMerchantLogin) || !sum || !inv || !signature) {
    return RobokassaError(400, "MerchantLogin, OutSum, InvId and SignatureValue are required");
  }
  // README §4: hash("MerchantLogin:OutSum:InvId:Password#1"), hex in any case.
  std::string given = *signature;
  for (char& c : given) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string expected = net::HexEncode(net::Hash(
      net::HmacAlgorithm::kMd5, fmt::format("{}:{}:{}:{}", *login, *sum, *inv, credentials().key)));
  if (!ConstantTimeEquals(expected, given)) {
    return RobokassaError(400, "SignatureValue does not match the payment's parameters");
  }
  links_opened_.fetch_add(1);
  return net::HttpResponse::Text(
      200, fmt::format("robokassa-sim: invoice {} for {} RUB{}", *inv, *sum,
                       r.http.QueryParam("Description") ? ": " + *r.http.QueryParam("Description")
                                                        : std::string()));
}

size_t RobokassaSimulator::LinksOpened() const { return links_opened_.load(); }

simkit::AdapterWiring RobokassaSimulator::Wiring() const {
  return {
      .type = "robokassa",
      .keys =
          fmt::format("merchant_login = \"{}\"\nallow_ips = [\"127.0.0.0/8\"]\npayment_url = {}\n",
                      kMerchantLogin, simkit::TomlString(base_url() + "/pay")),
      .secrets = {{"password1_file", credentials().key}, {"password2_file", credentials().secret}}};
}

simkit::SimulatorType RobokassaSimulatorType() {
  return {.name = "robokassa",
          .description =
              "Robokassa: ResultURL notifications of paid invoices pushed to --target, signed "
              "payment links checked at GET /pay (--tokens PASSWORD1:PASSWORD2)",
          .url_key = "payment_url",
          .extra_options = {{"target", "the ResultURL (<crmhub>/hooks/<id>)"}},
          .create = simkit::CreatePaymentSimulator<RobokassaSimulator>(Provider())};
}

}  // namespace crmhub::adapters::robokassa
