// The tochka adapter's config keys (declared once) and factory.

#include <fstream>
#include <sstream>
#include <utility>

#include "adapters/tochka/tochka_adapter.h"

namespace crmhub::adapters::tochka {
namespace {

using config::Type;

struct TochkaKeys : config::KeySet {
  config::Key<Type::kSecret> token_file = Declare<Type::kSecret>(
      {.name = "token_file",
       .description = "File (or systemd credential) holding the OAuth access token, for the "
                      "statements API (not used yet: only webhooks are received today)."});
  config::Key<Type::kString> customer_code = Declare<Type::kString>(
      {.name = "customer_code",
       .description = "The company's customerCode at Tochka: webhooks naming another are "
                      "refused (403).",
       .required = true});
  config::Key<Type::kStringList> accounts = Declare<Type::kStringList>(
      {.name = "accounts",
       .default_value = "[]",
       .description = "The company's accounts (\"<20 digits>/<BIC>\" as Tochka writes "
                      "accountId, or the 20 digits). When set, a payment webhook for any "
                      "other account is refused (403). Empty: any."});
  config::Key<Type::kPath> webhook_public_key_file = Declare<Type::kPath>(
      {.name = "webhook_public_key_file",
       .description = "Tochka's public key the webhooks' RS256 signatures are verified with: "
                      "the JWK published at https://enter.tochka.com/doc/openapi/static/keys/"
                      "public (as saved from there), or a PEM public key.",
       .required = true});
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
  std::ifstream in(keys.webhook_public_key_file.Get(section), std::ios::binary);
  if (!in) return keys.webhook_public_key_file.ErrorAt(section, "cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  Result<net::Rs256Verifier> verifier = net::Rs256Verifier::FromKeyText(text.str());
  if (!verifier.ok()) {
    return keys.webhook_public_key_file.ErrorAt(section, verifier.status().message());
  }
  if (context.clock == nullptr) return Status::Internal("tochka: no clock in the context");
  return std::unique_ptr<Adapter>(
      std::make_unique<TochkaAdapter>(std::move(c), std::move(*verifier), *context.clock));
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
