#pragma once
// PushAuth: how crmhub authenticates push notifications from systems that
// sign nothing (Ozon, Yandex Market): by the sender's address, and, when the
// deployment sets a token, by a secret `token` query parameter carried in the
// URL registered in the system's cabinet. Config keys, the same in every
// adapter that uses it: push_allow_ips, push_token_file.
//
// Immutable after ReadPushAuth; Check is thread-safe.

#include <string_view>

#include "base/secret.h"
#include "base/status.h"
#include "config/config.h"
#include "net/cidr.h"
#include "net/http_types.h"

namespace crmhub::adapters::webhook {

struct PushAuth {
  net::CidrList allow_ips;  // empty: any sender
  Secret token;             // empty: no token required

  // OK; PermissionDenied (-> 403) when the sender's address is not allowed;
  // Unauthenticated (-> 401) when the token is missing or wrong (compared in
  // constant time).
  Status Check(const net::HttpRequest& request) const;
};

// Reads push_allow_ips and push_token_file (optional) from `section`; an
// error names the key (`file:line: message`).
Result<PushAuth> ReadPushAuth(const config::Section& section);

}  // namespace crmhub::adapters::webhook
