#include "adapters/robokassa/robokassa_sim.h"

#include <fmt/format.h>

#include <cctype>

#include "net/hmac.h"

namespace crmhub::adapters::robokassa {
namespace {

using simkit::SimPayment;

constexpr char kDefaultPassword1[] = "sim-password-1";
constexpr char kDefaultPassword2[] = "sim-password-2";
constexpr uint64_t kSalt = 0x726f626f;

net::HttpResponse RobokassaError(int status, std::string_view message) {
  return net::HttpResponse::Text(status, std::string(message));
}

}  // namespace

Status RobokassaSimOptions::Complete() const {
  return simkit::CheckCredentialPair(*this, "robokassa", "PASSWORD1:PASSWORD2");
}

RobokassaSimulator::RobokassaSimulator(RobokassaSimOptions options, Clock& clock)
    : PaymentSimulator(options, clock, kSalt),
      passwords_(simkit::ReadCredentialPair(options, kDefaultPassword1, kDefaultPassword2)),
      pipeline_(
          [&] {
            simkit::SimPipeline::Options o = CommonOptions(options, kSalt);
            o.dialect.server_header = "robokassa-sim";
            o.dialect.unauthorized = [](bool) { return RobokassaError(401, "Unauthorized"); };
            o.dialect.error = RobokassaError;
            o.dialect.throttled = [](const simkit::LimitRefusal&) {
              return RobokassaError(429, "Too many requests");
            };
            return o;
          }(),
          clock) {}

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
    std::string signature = net::HexEncode(
        net::Hash(net::HmacAlgorithm::kMd5,
                  fmt::format("{}:{}:{}:Shp_order={}", sum, inv, passwords_.secret, p.order_id)));
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

simkit::AdapterWiring RobokassaSimulator::Wiring() const {
  return {.type = "robokassa",
          .keys = "merchant_login = \"sim-shop\"\nallow_ips = [\"127.0.0.0/8\"]\n",
          .secrets = {{"password1_file", passwords_.key}, {"password2_file", passwords_.secret}}};
}

simkit::SimulatorType RobokassaSimulatorType() {
  return {.name = "robokassa",
          .description =
              "Robokassa: ResultURL notifications of paid invoices pushed to --target "
              "(--tokens PASSWORD1:PASSWORD2)",
          .extra_options = {{"target", "the ResultURL (<crmhub>/hooks/<id>)"}},
          .create = simkit::Create<RobokassaSimulator, RobokassaSimOptions>};
}

}  // namespace crmhub::adapters::robokassa
