#pragma once
// The Mango Office VPBX adapter: call notifications in. Mango posts to the
// address configured in its cabinet with the event's path appended, so the
// cabinet gets https://<host>/hooks/<id> and the adapter serves
// /hooks/<id>/events/call, /events/summary and /events/recording.
// docs/adapters/mango.md says what is verified against the contract
// (contracts/telephony/README.md §1), what is answered, which keys dedup and
// what the documentation is silent on.
//
// A notification is an application/x-www-form-urlencoded form of exactly
// vpbx_api_key, sign and json (VPBX API v1.9 §2.1.1, §2.4.3). Checks, in
// order, each refusal counted and logged by kit::RefusalLog without a secret:
//   403  the sender is not in allow_ips (Mango's published senders by default)
//   400  the body is not a form
//   401  vpbx_api_key is not ours (constant time)
//   401  sign != sha256(vpbx_api_key + json + vpbx_api_salt), lowercase hex,
//        over the json field exactly as sent (constant time)
//   400  json is not a JSON object (depth-capped), or lacks what keys it
// then one event is queued and answered 200 with an empty body once durable.
//
// Events: payload the `json` field as Mango sent it (what config/mappings/
// mango-calls.toml maps), ordering key the entry_id (Mango's call id, the
// same across transfers), kind and key by path:
//   events/call       kind call_leg,       key call:<entry_id>:<call_id>:<seq>
//   events/summary    kind call_summary,   key summary:<entry_id>
//   events/recording  kind call_recording, key recording:<recording_id>:<recording_state>
// so a redelivered notification is a duplicate and a later state is not.
// A summary of an incoming call nobody answered (call_direction 1,
// entry_result 0) also queues the kit's missed-call task for from.number
// (kit/missed_call.h: one per caller per missed_call_window, assigned to
// to.extension), after the call's own event.
// Ids and seq arrive as strings or numbers (the documentation's own
// examples use both): either is read as text; null, arrays, objects,
// fractions and numbers beyond int64 are refused naming the member.
//
// Thread-safety: immutable after construction; HandleWebhook runs on I/O
// threads, concurrently, and does no I/O.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/adapter.h"
#include "adapters/kit/signed_notification.h"
#include "adapters/mango/mango_client.h"
#include "net/signature.h"

namespace crmhub::adapters::mango {

// vpbx_api_key is the account key (sent in every request), vpbx_api_salt
// the signing key (never sent).
using MangoConfig = kit::SignedNotificationConfig;

// The addresses Mango sends events from (§3.1.1).
std::vector<std::string> PublishedSenders();

// sha256(api_key + json + api_salt), lowercase hex: how Mango signs what it
// sends and how it checks what it is sent (§2.4.3).
std::string MangoSign(std::string_view api_key, std::string_view json, std::string_view api_salt);

// Target: command "click_to_call", item {"from_extension", "to_number",
// "line_number" (optional)}: POST commands/callback (MangoClient) with
// command_id = the command's key, the same on every redelivery, so Mango's
// events of the call name it and a retried command is the same command (the
// README does not say Mango deduplicates by command_id; the simulator does).
// Mango's answer other than {"result":1000} is a dead letter with the code.
class MangoAdapter final : public kit::SignedNotificationAdapter, public TargetCapability {
 public:
  // `metrics` may be null; it must outlive the adapter. Without a transport
  // (check-config, tests of the notifications) commands fail as transient.
  MangoAdapter(MangoConfig config, MetricsRegistry* metrics);
  // The factory's: an upstream transport on the context's HTTP client.
  MangoAdapter(MangoConfig config, const AdapterContext& context);
  MangoAdapter(MangoConfig config, MetricsRegistry* metrics, net::Transport transport,
               const Clock& clock);

  std::string DescribeJson() const override;
  Result<WebhookResult> HandleWebhook(const net::HttpRequest& request) override;
  bool ServesPath(std::string_view sub_path) const override;

  TargetCapability* target() override { return this; }
  std::vector<DeliveryOutcome> Deliver(std::span<const Command> batch) override;
  int max_batch() const override { return 4; }  // callback: 4 a second
  std::vector<std::string> commands() const override { return {"click_to_call"}; }

 private:
  // `clock` null: system_clock_. The public constructors delegate here with
  // a pointer: a reference to system_clock_ taken before the object exists
  // (as a delegating call's argument) is undefined behaviour.
  MangoAdapter(MangoConfig config, MetricsRegistry* metrics, net::Transport transport,
               const Clock* clock);

  const net::SignatureScheme sign_;
  const SystemClock system_clock_;  // when the context has no clock
  const MangoClient client_;
};

AdapterType Type();

}  // namespace crmhub::adapters::mango
