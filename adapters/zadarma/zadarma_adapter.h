#pragma once
// The Zadarma adapter: PBX call notifications in. The PBX's "call info" URL
// in Zadarma's cabinet is https://<host>/hooks/<id>; Zadarma checks it once
// with GET ?zd_echo=X (answered with X), then posts a form per event.
// docs/adapters/zadarma.md says what is verified against the contract
// (contracts/telephony/README.md §2, taken from Zadarma's official SDKs),
// what is answered, which keys dedup and what the sources are silent on.
//
// Checks, in order, each refusal counted and logged by kit::RefusalLog
// without a secret:
//   403  the sender is not in allow_ips (by default the address Zadarma's
//        official example checks; see the docs)
//   GET  ?zd_echo=X answered 200 with X (text/plain, at most 128 characters
//        of [A-Za-z0-9_-]); without it 400. Nothing is queued.
//   400  the POST body is not a form, or `event` is not one of the seven below
//   401  the Signature header is not base64(hex(HMAC-SHA1(api secret, msg)))
//        with msg the event's fields concatenated (constant time):
//          NOTIFY_START, NOTIFY_INTERNAL, NOTIFY_END  caller_id called_did call_start
//          NOTIFY_ANSWER                              caller_id destination call_start
//          NOTIFY_OUT_START, NOTIFY_OUT_END           internal destination call_start
//          NOTIFY_RECORD                              pbx_call_id call_id_with_rec
//        A signed field must be present (it may be empty).
//   400  a member of the key is missing, empty or longer than 128 bytes
// then one event is queued and answered 200 (empty body) once durable.
//
// Zadarma signs only those fields: `event`, `disposition`, `duration`,
// `is_recorded` are not covered by the signature (NOTIFY_START and
// NOTIFY_END of one call carry the same Signature). The sender allow-list is
// what keeps a captured signature from being replayed with other values.
//
// Events: payload the form's fields as a JSON object of strings (what
// config/mappings/zadarma-calls.toml maps), ordering key pbx_call_id (the
// call, stable across IVR and scenarios), kind "zadarma_<event lower case>",
// idempotency key per event (see kEvents in the .cc and the docs).
// NOTIFY_END of a call nobody answered (disposition other than "answered")
// also queues the kit's missed-call task for caller_id (kit/missed_call.h:
// one per caller per missed_call_window, assigned to `internal`).
//
// Thread-safety: immutable after construction; HandleWebhook runs on I/O
// threads, concurrently, and does no I/O.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/adapter.h"
#include "adapters/kit/signed_notification.h"

namespace crmhub::adapters::zadarma {

// The API key is the account key (REST calls; notifications do not carry
// it), the API secret the signing key.
using ZadarmaConfig = kit::SignedNotificationConfig;

// The sender Zadarma's official webhook example checks (possibly outdated).
std::vector<std::string> PublishedSenders();

class ZadarmaAdapter final : public kit::SignedNotificationAdapter {
 public:
  // `metrics` may be null; it must outlive the adapter.
  ZadarmaAdapter(ZadarmaConfig config, MetricsRegistry* metrics);
  // The factory's: the context's metrics.
  ZadarmaAdapter(ZadarmaConfig config, const AdapterContext& context)
      : ZadarmaAdapter(std::move(config), context.metrics) {}

  std::string DescribeJson() const override;
  Result<WebhookResult> HandleWebhook(const net::HttpRequest& request) override;
  bool ServesMethod(std::string_view method) const override {
    return method == "POST" || method == "GET";
  }

 private:
  Result<WebhookResult> Echo(const net::HttpRequest& request) const;
};

AdapterType Type();

}  // namespace crmhub::adapters::zadarma
