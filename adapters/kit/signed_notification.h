#pragma once
// What a provider that signs its notifications (Mango Office, Zadarma) needs
// around its own signature rule: the sender allow-list as a config key whose
// default is the provider's published addresses, and refusals that are
// counted and logged the same way for every provider.
//
//   SenderKeys     declares `allow_ips` into an adapter's KeySet (the
//                  published senders by default; a deployment behind a proxy,
//                  or a test, overrides it; [] allows any sender).
//   RefusalLog     one line at warn and crmhub_webhook_refusals_total
//                  {adapter,rule} per refused notification, naming the rule
//                  ("sender", "signature", "api_key", "body") and the
//                  sender's address, never a secret or a presented signature
//                  (a run of one rule is how a provider's quiet change to
//                  its signing shows up). The intake's
//                  crmhub_events_rejected_total counts the same refusals by
//                  HTTP class; this one says which rule.
//
// Immutable after construction; thread-safe (counters are atomic).

#include <string>
#include <string_view>
#include <vector>

#include "base/metrics.h"
#include "base/status.h"
#include "config/config.h"
#include "net/cidr.h"
#include "net/http_types.h"

namespace crmhub::adapters::kit {

struct SenderKeys {
  // `system` names the sender in the description ("Mango Office").
  SenderKeys(config::KeySet& set, const std::string& system,
             const std::vector<std::string>& published_senders);
  config::Key<config::Type::kStringList> allow_ips;
};

// The allow-list; an error names the key (`file:line: message`).
Result<net::CidrList> ReadSenders(const config::Section& section, const SenderKeys& keys);

class RefusalLog {
 public:
  // `metrics` may be null (check-config, unit tests): then only logged.
  RefusalLog(std::string system, std::string adapter_id, MetricsRegistry* metrics);

  // Counts and logs the refusal of `request` under `rule`; returns `status`
  // (so a handler writes `return refusals_.Refuse(...)`). `status`'s message
  // must hold no secret: it is logged and may be answered as the detail.
  Status Refuse(Status status, std::string_view rule, const net::HttpRequest& request) const;

  // PermissionDenied (-> 403) when `allow` is not empty and does not contain
  // the sender's address, counted under rule "sender"; else OK.
  Status CheckSender(const net::CidrList& allow, const net::HttpRequest& request) const;

 private:
  std::string system_;
  std::string adapter_id_;
  MetricsRegistry* metrics_;
};

}  // namespace crmhub::adapters::kit
