// The Acme adapter's config schema and factory.

#include "docs/adapters/example/acme_adapter.h"
#include "net/upstream.h"

namespace crmhub::adapters::acme {
namespace {

using config::Type;

// [keys]
// Each key declared once; the schema (docs/config.md) and Build read these.
struct AcmeKeys : config::KeySet {
  config::Key<Type::kUrl> base_url =
      Declare<Type::kUrl>({.name = "base_url",
                           .default_value = "\"https://api.acme.example\"",
                           .description = "API root. Change only for a simulator or a proxy."});
  config::Key<Type::kSecret> token_file =
      Declare<Type::kSecret>({.name = "token_file",
                              .description = "File (or systemd credential) holding the API token.",
                              .required = true});
  config::Key<Type::kSecret> webhook_secret_file = Declare<Type::kSecret>(
      {.name = "webhook_secret_file",
       .description = "The secret Acme signs webhooks with (X-Acme-Signature).",
       .required = true});
  config::Key<Type::kDuration> poll_interval = Declare<Type::kDuration>(
      {.name = "poll_interval", .default_value = "\"60s\"", .description = "Pause between pulls."});
};
// [keys]

// [factory]
Result<std::unique_ptr<Adapter>> Build(const config::Section& section,
                                       const AdapterContext& context) {
  const AcmeKeys keys;
  AcmeConfig c;
  c.id = section.id();
  c.client.base_url = keys.base_url.Get(section);
  c.client.token = keys.token_file.Get(section);
  c.webhook_secret = keys.webhook_secret_file.Get(section);
  c.poll_interval = keys.poll_interval.Get(section);
  if (context.clock == nullptr) return Status::Internal("acme: no clock in the context");
  // One upstream per account: the breaker and the crmhub_upstream_* metrics.
  net::Transport transport = net::MakeUpstreamTransport(
      "acme:" + c.id, context.http, *context.clock, context.metrics, {{"", {}}});
  return std::unique_ptr<Adapter>(
      std::make_unique<AcmeAdapter>(std::move(c), std::move(transport), *context.clock));
}
// [factory]

}  // namespace

AdapterType Type() {
  AdapterType t;
  t.schema.type = "acme";
  t.schema.description = "The example adapter of docs/adapters/writing-an-adapter.md.";
  t.schema.keys = AcmeKeys().specs();
  t.factory = Build;
  return t;
}

}  // namespace crmhub::adapters::acme
