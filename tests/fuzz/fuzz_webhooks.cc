// Every adapter's webhook handler, built from a config as the daemon builds
// it, fed any body on any of its paths. The first byte picks the adapter,
// the second the sub-path; the rest is the body. Sender checks are opened
// (no allow-list, no signature where the type allows) so the parsers behind
// them are reached. An adapter type with a webhook needs its line in
// kConfigs (docs/adapters/writing-an-adapter.md's checklist says so); a line
// whose config no longer builds, or builds no webhook, stops the fuzzer at
// once.

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "config/config.h"
#include "daemon/adapter_registry.h"
#include "daemon/config_schema.h"

namespace {

namespace fs = std::filesystem;
using crmhub::adapters::Adapter;

// [adapters.<type>] keys (besides type) that build each webhook-capable
// type with its checks opened; "{dir}" is where the secret files are.
const std::map<std::string, std::vector<std::string>> kConfigs = {
    {"webhook",
     {"idempotency_key = \"/id\"\nallow_ips = [\"0.0.0.0/0\", \"::/0\"]\nmapping = "
      "\"{dir}/rules.toml\"\n",
      "body_format = \"form\"\nidempotency_key = [\"field:TransactionId\", \"field:Status\"]\n"
      "kind = \"field:OperationType\"\nallow_ips = [\"0.0.0.0/0\"]\nmapping = "
      "\"{dir}/rules.toml\"\n"}},
    {"ozon",
     {"client_id = \"1\"\napi_key_file = \"{dir}/secret\"\npush_allow_ips = []\n"
      "mapping = \"{dir}/rules.toml\"\n"}},
    {"yandex-market",
     {"api_key_file = \"{dir}/secret\"\ncampaign_id = 1\nbusiness_id = 2\n"
      "push_allow_ips = []\nmapping = \"{dir}/rules.toml\"\n"}},
    {"mango",
     {"api_key_file = \"{dir}/secret\"\napi_salt_file = \"{dir}/secret\"\nallow_ips = []\n"
      "mapping = \"{dir}/rules.toml\"\n"}},
    {"zadarma",
     {"api_key_file = \"{dir}/secret\"\napi_secret_file = \"{dir}/secret\"\nallow_ips = []\n"
      "mapping = \"{dir}/rules.toml\"\n"}},
    {"tochka",
     {"customer_code = \"300123123\"\nwebhook_public_key_file = \"{dir}/tochka.jwk\"\n"
      "mapping = \"{dir}/rules.toml\"\n"}},
    {"onec-exchange",
     {"user = \"u\"\npassword_file = \"{dir}/secret\"\nstaging_dir = \"{dir}/onec\"\n"
      "mapping = \"{dir}/rules.toml\"\n"}},
    {"yookassa",
     {"shop_id = \"1\"\nsecret_key_file = \"{dir}/secret\"\nallow_ips = []\n"
      "mapping = \"{dir}/rules.toml\"\n"}},
    {"cloudpayments",
     {"public_id = \"pk\"\napi_secret_file = \"{dir}/secret\"\n"
      "mapping = \"{dir}/rules.toml\"\n"}},
    {"tbank",
     {"terminal_key = \"T\"\npassword_file = \"{dir}/secret\"\n"
      "mapping = \"{dir}/rules.toml\"\n"}},
    {"robokassa",
     {"merchant_login = \"m\"\npassword1_file = \"{dir}/secret\"\n"
      "password2_file = \"{dir}/secret\"\nallow_ips = []\nmapping = \"{dir}/rules.toml\"\n"}},
};

// The key Tochka's sample webhooks verify with (contracts/banks/tochka/webhooks/
// tochka_webhook_public_key.jwk.json): the seeds reach the payload's parsing.
constexpr const char* kTochkaJwk =
    R"({"kty": "RSA", "e": "AQAB", "n": "rwm77av7GIttq-JF1itEgLCGEZW_zz16RlUQVYlLbJtyRSu61fCec_rroP6PxjXU2uLzUOaGaLgAPeUZAJrGuVp9nryKgbZceHckdHDYgJd9TsdJ1MYUsXaOb9joN9vmsCscBx1lwSlFQyNQsHUsrjuDk-opf6RCuazRQ9gkoDCX70HV8WBMFoVm-YWQKJHZEaIQxg_DU4gMFyKRkDGKsYKA0POL-UgWA1qkg6nHY5BOMKaqxbc5ky87muWB5nNk4mfmsckyFv9j1gBiXLKekA_y4UwG2o1pbOLpJS3bP_c95rm4M9ZBmGXqfOQhbjz8z-s9C11i-jmOQ2ByohS-ST3E5sqBzIsxxrxyQDTw--bZNhzpbciyYW4GfkkqyeYoOPd_84jPTBDKQXssvj8ZOj2XboS77tvEO1n1WlwUzh8HPCJod5_fEgSXuozpJtOggXBv0C2ps7yXlDZf-7Jar0UYc_NJEHJF-xShlqd6Q3sVL02PhSCM-ibn9DN9BKmD"})";

std::vector<std::shared_ptr<Adapter>> BuildAll() {
  const fs::path dir =
      fs::temp_directory_path() / ("crmhub-fuzz-hooks-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "secret") << "s3cret";
  std::ofstream(dir / "tochka.jwk") << kTochkaJwk;
  std::ofstream(dir / "rules.toml")
      << "format = 1\n[[entity]]\nrule = \"l\"\nkind = \"lead\"\nexternal_id = \"/id\"\n"
         "[entity.fields]\nstatus = { value = \"new\" }\n";
  const auto types = crmhub::daemon::AllAdapterTypes();
  const auto schema = crmhub::daemon::BuildSchema(types);
  static crmhub::SystemClock clock;
  static crmhub::MetricsRegistry metrics;
  std::vector<std::shared_ptr<Adapter>> out;
  for (const auto& type : types) {
    auto it = kConfigs.find(type.schema.type);
    if (it == kConfigs.end()) continue;  // a type without a webhook
    for (std::string keys : it->second) {
      for (size_t p; (p = keys.find("{dir}")) != std::string::npos;)
        keys.replace(p, 5, dir.string());
      std::ofstream(dir / "crmhub.toml", std::ios::trunc)
          << "[adapters.a]\ntype = \"" << type.schema.type << "\"\n"
          << keys;
      auto config = crmhub::config::LoadConfig(dir / "crmhub.toml", schema);
      if (!config.ok()) {
        fprintf(stderr, "fuzz_webhooks: %s: %s\n", type.schema.type.c_str(),
                config.status().ToString().c_str());
        __builtin_trap();
      }
      auto adapter = type.factory(config->Adapters()[0],
                                  {.http = nullptr, .clock = &clock, .metrics = &metrics});
      if (!adapter.ok() || (*adapter)->webhook() == nullptr) {
        fprintf(stderr, "fuzz_webhooks: %s does not build with a webhook\n",
                type.schema.type.c_str());
        __builtin_trap();
      }
      out.push_back(std::move(adapter).value());
    }
  }
  if (out.size() < kConfigs.size()) __builtin_trap();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<std::shared_ptr<Adapter>> adapters = BuildAll();
  static const char* kPaths[] = {"", "notification", "events/call", "x/y"};
  if (size < 2) return 0;
  Adapter& adapter = *adapters[data[0] % adapters.size()];
  crmhub::net::HttpRequest request;
  request.method = "POST";
  const std::string sub = kPaths[data[1] % 4];
  request.path = "/hooks/a" + (sub.empty() ? std::string() : "/" + sub);
  request.target = request.path + "?token=x";
  request.query = "token=x";
  request.remote_address = "127.0.0.1";
  request.headers.Set("Content-Type", "application/json");
  request.body.assign(reinterpret_cast<const char*>(data) + 2, size - 2);
  auto* hook = adapter.webhook();
  if (!hook->ServesPath(sub)) return 0;
  auto result = hook->HandleWebhook(request);
  if (result.ok()) {
    for (const auto& e : result->events) {
      if (e.idempotency_key.empty()) __builtin_trap();  // the queue refuses empty keys
    }
  }
  return 0;
}
