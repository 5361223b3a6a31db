#pragma once
// Who may do what on the admin API: named bearer tokens with scopes.
//
// Tokens come from [admin.tokens.<name>] (token_file, scopes) and, for the
// single-token setups written before scopes existed, [admin] token_file (a
// token named "admin" with the admin scope). A request's token is compared
// in constant time with every configured token; the match gives the caller's
// name (what the audit journal records, never the token) and scopes.
//
//   scope     grants
//   read      GET /api/v1/adapters, /queue, /dead-letters; /metrics when
//             [admin] metrics_require_token is set
//   replay    POST /api/v1/dead-letters/{id}/replay, /dead-letters/replay
//   commands  POST /api/v1/commands (the CRM core's token)
//   admin     all of the above, and dropping dead letters, GET /api/v1/audit
//
// Scopes do not imply each other (except admin): an operator who replays
// dead letters usually holds ["read", "replay"], the CRM core ["commands"],
// a dashboard ["read"]. Least privilege is then a matter of config, as with
// Kafka ACLs or Vault policies.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/secret.h"
#include "config/config.h"
#include "net/http_types.h"

namespace crmhub::daemon {

enum class Scope { kRead, kReplay, kCommands, kAdmin };
std::string_view ScopeName(Scope scope);
// "read" -> kRead; nullopt for an unknown name.
std::optional<Scope> ParseScope(std::string_view name);
// The names ParseScope accepts, for the config schema.
std::vector<std::string> ScopeNames();

struct AdminToken {
  std::string name;  // what the audit journal and logs show
  Secret secret;
  std::vector<Scope> scopes;

  // True if the token holds `scope` or admin.
  bool Grants(Scope scope) const;
};

// The caller a request's bearer token names.
struct AdminCaller {
  std::string name;
  std::vector<Scope> scopes;
  bool Grants(Scope scope) const;
};

class AdminAccess {
 public:
  AdminAccess() = default;
  explicit AdminAccess(std::vector<AdminToken> tokens) : tokens_(std::move(tokens)) {}

  // The tokens of [admin] token_file and [admin.tokens.<name>]. Errors
  // (located) for an unknown scope, a name used twice, or two names sharing
  // one token (the journal could not tell them apart).
  static Result<AdminAccess> FromConfig(const config::Config& config);

  bool empty() const { return tokens_.empty(); }
  const std::vector<AdminToken>& tokens() const { return tokens_; }

  // The caller an "Authorization: Bearer <token>" header names, or nullopt
  // (no header, another scheme, an unknown token). Every configured token is
  // compared, in constant time, whatever matched first.
  std::optional<AdminCaller> Identify(const net::HeaderMap& headers) const;

 private:
  std::vector<AdminToken> tokens_;
};

// The scope a request to the admin API needs, from its method and path
// alone (so it is decided before the body is read). Unknown paths need
// read: they answer 404 or 405, and only to a known caller.
Scope ScopeNeeded(std::string_view method, std::string_view path);

// The answers of a refused request: 401 with WWW-Authenticate for an unknown
// caller, 403 naming the missing scope for a known one.
net::HttpResponse Unauthorized();
net::HttpResponse Forbidden(const AdminCaller& caller, Scope needed);

}  // namespace crmhub::daemon
