#include "adapters/cloudpayments/cloudpayments_sim.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "base/timestamp.h"
#include "net/hmac.h"

namespace crmhub::adapters::cloudpayments {
namespace {

using simkit::SimPayment;

simkit::PaymentProvider Provider() {
  return {.system = "cloudpayments",
          .credential_form = "PUBLIC_ID:API_SECRET",
          .default_key = "pk_sim",
          .default_secret = "sim-api-secret",
          .salt = 0x636c6f75,
          .error = [](int status, std::string_view message) {
            return net::HttpResponse::Json(
                status, nlohmann::json{{"Success", false}, {"Message", message}}.dump());
          }};
}

}  // namespace

CloudPaymentsSimulator::CloudPaymentsSimulator(const CloudPaymentsSimOptions& options, Clock& clock)
    : PaymentProviderSimulator(options, clock, Provider()) {}

std::string CloudPaymentsSimulator::PaymentId(const SimPayment& p) const {
  return std::to_string(1000000 + p.index);
}

std::string CloudPaymentsSimulator::FinalStatus(const SimPayment& p) const {
  if (p.paid) return "succeeded";
  return p.two_stage ? "canceled" : "failed";
}

std::vector<simkit::Push> CloudPaymentsSimulator::Pushes() const {
  std::vector<simkit::Push> out;
  auto push = [&](const SimPayment& p, const char* path, const char* status, SystemTime at) {
    const std::string body =
        simkit::EncodeForm({{"TransactionId", PaymentId(p)},
                            {"Amount", p.Amount()},
                            {"Currency", "RUB"},
                            {"DateTime", FormatTimestamp(at, TimestampStyle::kRfc3339Seconds, 0)},
                            {"CardFirstSix", "424242"},
                            {"CardLastFour", "4242"},
                            {"CardType", "Visa"},
                            {"TestMode", "1"},
                            {"Status", status},
                            {"OperationType", "Payment"},
                            {"InvoiceId", p.order_id},
                            {"Data", R"({"sim":true})"}});
    out.push_back(
        {.path = path,
         .headers = {{"Content-HMAC", net::Base64Encode(net::Hmac(net::HmacAlgorithm::kSha256,
                                                                  credentials().secret, body))}},
         .body = body,
         .at = at,
         .expect_body = R"({"code":0})"});
  };
  for (const SimPayment& p : payments()) {
    if (p.two_stage) {
      push(p, "/pay", "Authorized", p.authorized);
      push(p, p.paid ? "/confirm" : "/cancel", p.paid ? "Completed" : "Cancelled", p.ended);
    } else {
      push(p, p.paid ? "/pay" : "/fail", p.paid ? "Completed" : "Declined", p.ended);
    }
  }
  return out;
}

simkit::AdapterWiring CloudPaymentsSimulator::Wiring() const {
  return {.type = "cloudpayments",
          .keys = fmt::format("public_id = {}\n", simkit::TomlString(credentials().key)),
          .secrets = {{"api_secret_file", credentials().secret}}};
}

simkit::SimulatorType CloudPaymentsSimulatorType() {
  return {.name = "cloudpayments",
          .description =
              "CloudPayments: Pay/Confirm/Cancel/Fail notifications with Content-HMAC "
              "pushed to --target (--tokens PUBLIC_ID:API_SECRET)",
          .extra_options = {{"target", "the URL notifications go to (<crmhub>/hooks/<id>)"}},
          .create = simkit::CreatePaymentSimulator<CloudPaymentsSimulator>(Provider())};
}

}  // namespace crmhub::adapters::cloudpayments
