#include "adapters/zadarma/zadarma_sim.h"

#include <fmt/format.h>

#include <ctime>

#include <nlohmann/json.hpp>

#include "net/hmac.h"

namespace crmhub::adapters::zadarma {
namespace {

using simkit::SimCall;

constexpr char kDefaultKey[] = "sim-zd-key";
constexpr char kDefaultSecret[] = "sim-zd-secret";

// The SDKs' encodeSignature, read again here: base64 of the hex digest.
std::string Signature(const std::string& message, const std::string& secret) {
  return net::Base64Encode(net::HmacHex(net::HmacAlgorithm::kSha1, secret, message));
}

// "YYYY-MM-DD hh:mm:ss", Moscow time (UTC+3, no daylight saving).
std::string MoscowTime(SystemTime t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t + std::chrono::hours(3));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char text[32];
  return std::string(text, std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm));
}

std::string PbxCallId(const SimCall& c) {
  return fmt::format("{}_{:016x}", c.incoming ? "in" : "out", 0x5a000000u + c.index);
}

// Q.931 causes: 16 normal clearing, 17 busy, 19 no answer, 21 rejected.
struct Outcome {
  const char* disposition;
  const char* status_code;
};
Outcome OutcomeOf(const SimCall& c) {
  if (c.answered) return {"answered", "16"};
  switch (c.index % 3) {
    case 0:
      return {"no answer", "19"};
    case 1:
      return {"busy", "17"};
    default:
      return {"cancel", "21"};
  }
}

net::HttpResponse ZadarmaError(int status, std::string_view message) {
  return net::HttpResponse::Json(status,
                                 nlohmann::json{{"status", "error"}, {"message", message}}.dump());
}

}  // namespace

Status ZadarmaSimOptions::Complete() const {
  return simkit::CheckCredentialPair(*this, "zadarma", "KEY:SECRET");
}

ZadarmaSimulator::ZadarmaSimulator(ZadarmaSimOptions options, Clock& clock)
    : CallSimulator(options, clock, 0x7a647261),
      credentials_(simkit::ReadCredentialPair(options, kDefaultKey, kDefaultSecret)),
      pipeline_(
          [&] {
            simkit::SimPipeline::Options o = CommonOptions(options, 0x7a647261);
            o.dialect.server_header = "zadarma-sim";
            o.dialect.unauthorized = [](bool) { return ZadarmaError(401, "Not authorized"); };
            o.dialect.error = ZadarmaError;
            o.dialect.throttled = [](const simkit::LimitRefusal&) {
              return ZadarmaError(429, "Too many requests");
            };
            return o;
          }(),
          clock) {}

ZadarmaSimulator::~ZadarmaSimulator() { Stop(); }

std::vector<simkit::Push> ZadarmaSimulator::Pushes() const {
  const std::string& secret = credentials_.secret;
  std::vector<simkit::Push> out;
  // `signed_fields` are concatenated in order for the Signature.
  auto push = [&](std::vector<std::pair<std::string, std::string>> fields,
                  const std::vector<std::string>& signed_fields, SystemTime at) {
    std::string message;
    for (const std::string& name : signed_fields) {
      for (const auto& [field, value] : fields) {
        if (field == name) message += value;
      }
    }
    out.push_back({.path = "",
                   .headers = {{"Signature", Signature(message, secret)}},
                   .body = simkit::EncodeForm(fields),
                   .at = at});
  };
  for (const SimCall& c : calls()) {
    const std::string id = PbxCallId(c), start = MoscowTime(c.start);
    const std::string rec = c.answered ? fmt::format("{}.{}", c.index, 1700000000 + c.index) : "";
    const Outcome outcome = OutcomeOf(c);
    const std::string duration = std::to_string(
        c.answered ? std::chrono::duration_cast<std::chrono::seconds>(c.end - c.answer).count()
                   : 0);
    auto end_fields = [&](std::vector<std::pair<std::string, std::string>> f) {
      f.insert(f.end(), {{"duration", duration},
                         {"disposition", outcome.disposition},
                         {"status_code", outcome.status_code},
                         {"is_recorded", c.answered ? "1" : "0"},
                         {"call_id_with_rec", rec}});
      return f;
    };
    if (c.incoming) {
      const std::vector<std::string> sig = {"caller_id", "called_did", "call_start"};
      push({{"event", "NOTIFY_START"},
            {"call_start", start},
            {"pbx_call_id", id},
            {"caller_id", c.customer},
            {"called_did", c.line}},
           sig, c.start);
      push({{"event", "NOTIFY_INTERNAL"},
            {"call_start", start},
            {"pbx_call_id", id},
            {"caller_id", c.customer},
            {"called_did", c.line},
            {"internal", c.extension}},
           sig, c.start + std::chrono::seconds(1));
      if (c.answered) {
        push({{"event", "NOTIFY_ANSWER"},
              {"caller_id", c.customer},
              {"destination", c.extension},
              {"call_start", start},
              {"pbx_call_id", id},
              {"internal", c.extension}},
             {"caller_id", "destination", "call_start"}, c.answer);
      }
      push(end_fields({{"event", "NOTIFY_END"},
                       {"call_start", start},
                       {"pbx_call_id", id},
                       {"caller_id", c.customer},
                       {"called_did", c.line},
                       {"internal", c.answered ? c.extension : ""}}),
           sig, c.end);
    } else {
      const std::vector<std::string> sig = {"internal", "destination", "call_start"};
      push({{"event", "NOTIFY_OUT_START"},
            {"internal", c.extension},
            {"destination", c.customer},
            {"call_start", start},
            {"pbx_call_id", id}},
           sig, c.start);
      push(end_fields({{"event", "NOTIFY_OUT_END"},
                       {"internal", c.extension},
                       {"destination", c.customer},
                       {"call_start", start},
                       {"pbx_call_id", id}}),
           sig, c.end);
    }
    if (c.answered) {
      // The recording can be downloaded about 40 s after the end.
      push({{"event", "NOTIFY_RECORD"}, {"pbx_call_id", id}, {"call_id_with_rec", rec}},
           {"pbx_call_id", "call_id_with_rec"}, c.end + std::chrono::seconds(40));
    }
  }
  return out;
}

std::string ZadarmaSimulator::CallId(const SimCall& call) const { return PbxCallId(call); }

simkit::AdapterWiring ZadarmaSimulator::Wiring() const {
  return {
      .type = "zadarma",
      .keys = "allow_ips = [\"127.0.0.0/8\"]\n",
      .secrets = {{"api_key_file", credentials_.key}, {"api_secret_file", credentials_.secret}}};
}

simkit::SimulatorType ZadarmaSimulatorType() {
  return {.name = "zadarma",
          .description =
              "Zadarma PBX: call notifications (NOTIFY_*) pushed to --target "
              "(--tokens KEY:SECRET)",
          .extra_options = {{"target", "the URL the notifications go to (<crmhub>/hooks/<id>)"}},
          .create = simkit::Create<ZadarmaSimulator, ZadarmaSimOptions>};
}

}  // namespace crmhub::adapters::zadarma
