#pragma once
// PushAuth: how crmhub authenticates push notifications from systems that
// sign nothing (Ozon, Yandex Market): by the sender's address, and, when the
// deployment sets a token, by a secret `token` query parameter carried in the
// URL registered in the system's cabinet. Config keys, declared here once
// and added to an adapter's KeySet by PushAuthKeys: push_allow_ips (the
// system's published sender ranges by default), push_token_file.
//
// Immutable after ReadPushAuth; Check is thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "base/secret.h"
#include "base/status.h"
#include "config/config.h"
#include "net/cidr.h"
#include "net/http_types.h"

namespace crmhub::adapters::kit {

// The two keys, declared into an adapter's KeySet (in its docs order).
// `system` names the sender in the descriptions ("Ozon").
struct PushAuthKeys {
  PushAuthKeys(config::KeySet& set, const std::string& system,
               const std::vector<std::string>& default_allow_ips);
  config::Key<config::Type::kStringList> allow_ips;
  config::Key<config::Type::kSecret> token_file;
};

struct PushAuth {
  net::CidrList allow_ips;  // empty: any sender
  Secret token;             // empty: no token required

  // OK; PermissionDenied (-> 403) when the sender's address is not allowed;
  // Unauthenticated (-> 401) when the token is missing or wrong (compared in
  // constant time).
  Status Check(const net::HttpRequest& request) const;
};

// Reads the keys from `section`; an error names the key (`file:line: message`).
Result<PushAuth> ReadPushAuth(const config::Section& section, const PushAuthKeys& keys);

}  // namespace crmhub::adapters::kit
