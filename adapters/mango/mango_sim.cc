#include "adapters/mango/mango_sim.h"

#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "base/json_get.h"
#include "net/hmac.h"

namespace crmhub::adapters::mango {
namespace {

using nlohmann::json;
using simkit::SimCall;

constexpr char kDefaultKey[] = "sim-vpbx-key";
constexpr char kDefaultSalt[] = "sim-vpbx-salt";

// §2.4.3, read again here: sha256 of key, json and salt, lower-case hex.
std::string Sign(const std::string& key, const std::string& json_text, const std::string& salt) {
  return net::HexEncode(net::Hash(net::HmacAlgorithm::kSha256, key + json_text + salt));
}

int64_t UnixSeconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string EntryId(const SimCall& c) { return fmt::format("sim-entry-{}", c.index); }

// Mango's error answers carry a result code (§1.4): 3102 wrong key or sign.
net::HttpResponse MangoError(int status, std::string_view message) {
  return net::HttpResponse::Json(
      status, json{{"result", status == 401 ? 3102 : 4000 + status}, {"message", message}}.dump());
}

}  // namespace

Status MangoSimOptions::Complete() const {
  return simkit::CheckCredentialPair(*this, "mango", "KEY:SALT");
}

MangoSimulator::MangoSimulator(MangoSimOptions options, Clock& clock)
    : CallSimulator(options, clock, 0x6d616e67),
      credentials_(simkit::ReadCredentialPair(options, kDefaultKey, kDefaultSalt)),
      pipeline_(PipelineOptions(options), clock) {}

MangoSimulator::~MangoSimulator() { Stop(); }

simkit::SimPipeline::Options MangoSimulator::PipelineOptions(const MangoSimOptions& options) {
  simkit::SimPipeline::Options o = CommonOptions(options, 0x6d616e67);
  o.dialect.server_header = "mango-sim";
  // No auth headers: every request is signed in its form (checked by the route).
  o.dialect.unauthorized = [](bool) { return MangoError(401, "unauthorized"); };
  o.dialect.error = MangoError;
  o.dialect.throttled = [](const simkit::LimitRefusal&) {
    // §1.4.2, as Mango writes it.
    return net::HttpResponse::Json(
        429,
        R"({"name":"Service Unavailable","message":"Rate limit exceeded.","code":0,"status":429})");
  };
  // §1.4.2: callback 4 a second per product.
  o.limits = {simkit::SimPipeline::Limit::Window("callback", 4, std::chrono::seconds(1))};
  o.routes = {{.method = "POST",
               .path = "/vpbx/commands/callback",
               .limits = {"callback"},
               .handler = [this](const simkit::SimRequest& r) { return Callback(r); }}};
  return o;
}

std::vector<simkit::Push> MangoSimulator::Pushes() const {
  const std::string& key = credentials_.key;
  const std::string& salt = credentials_.secret;
  std::vector<simkit::Push> out;
  auto push = [&](std::string path, const json& event, SystemTime at) {
    const std::string text = event.dump();
    out.push_back({.path = std::move(path),
                   .body = simkit::EncodeForm(
                       {{"vpbx_api_key", key}, {"sign", Sign(key, text, salt)}, {"json", text}}),
                   .at = at});
  };
  for (const SimCall& c : calls()) {
    const std::string entry = EntryId(c), leg = fmt::format("sim-leg-{}", c.index);
    // Even calls write seq and timestamp as text, odd ones as numbers.
    auto loose = [&](int64_t v) { return c.index % 2 == 0 ? json(std::to_string(v)) : json(v); };
    const json customer = {{"number", c.customer}};
    const json employee = {{"extension", c.extension}, {"number", c.line}};
    const json from = c.incoming ? customer : employee;
    const json to = c.incoming ? json{{"extension", c.extension}, {"number", c.line}} : customer;
    int seq = 0;
    auto state = [&](const char* name, SystemTime at) {
      json e = {{"entry_id", entry},
                {"call_id", leg},
                {"timestamp", loose(UnixSeconds(at))},
                {"seq", loose(++seq)},
                {"call_state", name},
                {"location", "abonent"},
                {"from", from},
                {"to", to}};
      if (std::string_view(name) == "Disconnected")
        e["disconnect_reason"] = c.answered ? 1110 : 1120;
      push("/events/call", e, at);
    };
    state("Appeared", c.start);
    if (c.answered) {
      state("Connected", c.answer);
      for (const char* rec : {"Started", "Completed"}) {
        const SystemTime at = std::string_view(rec) == "Started" ? c.answer : c.end;
        push("/events/recording",
             {{"recording_id", fmt::format("sim-rec-{}", c.index)},
              {"recording_state", rec},
              {"seq", loose(std::string_view(rec) == "Started" ? 1 : 2)},
              {"entry_id", entry},
              {"call_id", leg},
              {"extension", c.extension},
              {"timestamp", loose(UnixSeconds(at))}},
             at);
      }
    }
    state("Disconnected", c.end);
    push("/events/summary",
         {{"entry_id", entry},
          {"call_direction", c.incoming ? 1 : 2},
          {"from", from},
          {"to", to},
          {"line_number", c.line},
          {"create_time", UnixSeconds(c.start)},
          {"forward_time", UnixSeconds(c.start) + 1},
          {"talk_time", c.answered ? UnixSeconds(c.answer) : 0},
          {"end_time", UnixSeconds(c.end)},
          {"entry_result", c.answered ? 1 : 0},
          {"disconnect_reason", c.answered ? 1110 : 1120}},
         c.end + std::chrono::seconds(1));
  }
  return out;
}

std::vector<std::string> MangoSimulator::Callbacks() const {
  std::lock_guard lock(mu_);
  return callbacks_;
}

std::string MangoSimulator::CallId(const SimCall& call) const { return EntryId(call); }

simkit::AdapterWiring MangoSimulator::Wiring() const {
  return {.type = "mango",
          .keys = "allow_ips = [\"127.0.0.0/8\"]\n",
          .secrets = {{"api_key_file", credentials_.key}, {"api_salt_file", credentials_.secret}}};
}

net::HttpResponse MangoSimulator::Callback(const simkit::SimRequest& r) {
  auto form = simkit::DecodeForm(r.http.body);
  if (!form) return MangoError(400, "not a form");
  const std::string key = (*form)["vpbx_api_key"], text = (*form)["json"];
  if (key != credentials_.key || (*form)["sign"] != Sign(key, text, credentials_.secret)) {
    return MangoError(401, "wrong vpbx_api_key or sign");
  }
  Result<json> command = ParseJson(text);
  std::optional<std::string_view> id =
      command.ok() ? JsonString(*command, "command_id") : std::nullopt;
  if (!id || id->empty() || !JsonObject(*command, "from") ||
      !JsonScalarText(*command, "to_number")) {
    return MangoError(400, "command_id, from and to_number are required");
  }
  std::lock_guard lock(mu_);
  if (seen_commands_.insert(std::string(*id)).second) callbacks_.push_back(std::string(*id));
  return net::HttpResponse::Json(200, R"({"result":1000})");
}

simkit::SimulatorType MangoSimulatorType() {
  return {.name = "mango",
          .description =
              "Mango Office VPBX: call notifications pushed to --target, "
              "commands/callback served (--tokens KEY:SALT)",
          .url_key = "base_url",
          .extra_options = {{"target", "the URL Mango's events go to (<crmhub>/hooks/<id>)"}},
          .create = simkit::Create<MangoSimulator, MangoSimOptions>};
}

}  // namespace crmhub::adapters::mango
