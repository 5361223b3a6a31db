// The tochka adapter's config keys (declared once) and factory.

#include <fstream>
#include <sstream>
#include <utility>

#include "adapters/tochka/tochka_adapter.h"
#include "net/upstream.h"

namespace crmhub::adapters::tochka {
namespace {

using config::Type;

struct TochkaKeys : config::KeySet {
  config::Key<Type::kSecret> token_file = Declare<Type::kSecret>(
      {.name = "token_file",
       .description = "File (or systemd credential) holding the OAuth access token "
                      "(scope ReadStatements), sent as Bearer. With accounts, statements are "
                      "pulled; without a token, webhooks only."});
  config::Key<Type::kString> customer_code = Declare<Type::kString>(
      {.name = "customer_code",
       .description = "The company's customerCode at Tochka: webhooks naming another are "
                      "refused (403).",
       .required = true});
  config::Key<Type::kStringList> accounts = Declare<Type::kStringList>(
      {.name = "accounts",
       .default_value = "[]",
       .description = "The company's accounts as Tochka's accountId (\"<20 digits>/<BIC>\"): "
                      "their statements are pulled (with token_file), and a payment webhook "
                      "for any other account is refused (403). Empty: no statements, webhooks "
                      "for any account."});
  config::Key<Type::kPath> webhook_public_key_file = Declare<Type::kPath>(
      {.name = "webhook_public_key_file",
       .description = "Tochka's public key the webhooks' RS256 signatures are verified with: "
                      "the JWK published at https://enter.tochka.com/doc/openapi/static/keys/"
                      "public (as saved from there), or a PEM public key. Unset: webhooks are "
                      "not served (404)."});
  config::Key<Type::kUrl> base_url = Declare<Type::kUrl>(
      {.name = "base_url",
       .default_value = "\"https://enter.tochka.com/uapi\"",
       .description = "API root (the sandbox: https://enter.tochka.com/sandbox/v2). Change "
                      "only for the sandbox, a simulator or a proxy."});
  config::Key<Type::kDuration> poll_interval = Declare<Type::kDuration>(
      {.name = "poll_interval",
       .default_value = "\"5m\"",
       .description = "Pause between statement rounds over the accounts (webhooks bring "
                      "payments in between, within seconds)."});
  config::Key<Type::kInt> lookback_days =
      Declare<Type::kInt>({.name = "lookback_days",
                           .default_value = "3",
                           .description = "Days before today an account's first statement starts.",
                           .min = 0,
                           .max = 365});
  config::Key<Type::kDuration> request_timeout =
      Declare<Type::kDuration>({.name = "request_timeout",
                                .default_value = "\"10s\"",
                                .description = "Whole-exchange timeout of one API request."});
  config::Key<Type::kSize> max_body = Declare<Type::kSize>(
      {.name = "max_body",
       .default_value = "\"64KiB\"",
       .description = "Largest webhook body accepted (413 above). Tochka's are about 2 KB."});
};

Result<std::unique_ptr<Adapter>> Build(const config::Section& section,
                                       const AdapterContext& context) {
  const TochkaKeys keys;
  TochkaConfig c;
  c.id = section.id();
  c.customer_code = keys.customer_code.Get(section);
  c.accounts = keys.accounts.Get(section);
  c.max_body = keys.max_body.Get(section);
  c.poll_interval = keys.poll_interval.Get(section);
  c.lookback_days = static_cast<int>(keys.lookback_days.Get(section));
  std::optional<net::Rs256Verifier> verifier;
  if (keys.webhook_public_key_file.IsSet(section)) {
    std::ifstream in(keys.webhook_public_key_file.Get(section), std::ios::binary);
    if (!in) return keys.webhook_public_key_file.ErrorAt(section, "cannot read the file");
    std::ostringstream text;
    text << in.rdbuf();
    Result<net::Rs256Verifier> read = net::Rs256Verifier::FromKeyText(text.str());
    if (!read.ok()) return keys.webhook_public_key_file.ErrorAt(section, read.status().message());
    verifier = std::move(*read);
  }
  for (const std::string& a : c.accounts) {
    if (a.size() < 20 || (a.size() > 20 && a[20] != '/')) {
      return keys.accounts.ErrorAt(section, "\"" + a + "\": expected <20 digits>/<BIC>");
    }
  }
  if (context.clock == nullptr) return Status::Internal("tochka: no clock in the context");
  std::unique_ptr<TochkaClient> client;
  if (keys.token_file.IsSet(section)) {
    TochkaClientOptions o{.base_url = keys.base_url.Get(section),
                          .token = keys.token_file.Get(section),
                          .timeout = keys.request_timeout.Get(section)};
    if (o.token.empty()) return keys.token_file.ErrorAt(section, "the secret file is empty");
    client = std::make_unique<TochkaClient>(
        std::move(o),
        net::MakeUpstreamTransport("tochka:" + c.id, context.http, *context.clock, context.metrics,
                                   {{"statements", {}}}),
        *context.clock);
  }
  if (!verifier && (client == nullptr || c.accounts.empty())) {
    return keys.webhook_public_key_file.ErrorAt(
        section,
        "set webhook_public_key_file (webhooks), or token_file and accounts "
        "(statements), or both");
  }
  return std::unique_ptr<Adapter>(std::make_unique<TochkaAdapter>(
      std::move(c), std::move(verifier), *context.clock, std::move(client)));
}

}  // namespace

AdapterType Type() {
  return {.schema = {.type = "tochka",
                     .description = "Tochka Bank open API: incoming and outgoing payments, SBP "
                                    "and acquiring payments pushed as RS256-signed webhooks to "
                                    "/hooks/<id>, verified with the bank's public key.",
                     .keys = TochkaKeys().specs()},
          .factory = Build};
}

}  // namespace crmhub::adapters::tochka
