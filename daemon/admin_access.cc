#include "daemon/admin_access.h"

#include <fmt/format.h>

#include <algorithm>

namespace crmhub::daemon {
namespace {

constexpr std::string_view kBearer = "Bearer ";

bool HasScope(const std::vector<Scope>& scopes, Scope scope) {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end() ||
         std::find(scopes.begin(), scopes.end(), Scope::kAdmin) != scopes.end();
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::string_view ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kRead:
      return "read";
    case Scope::kReplay:
      return "replay";
    case Scope::kCommands:
      return "commands";
    case Scope::kAdmin:
      return "admin";
  }
  return "admin";
}

std::optional<Scope> ParseScope(std::string_view name) {
  for (Scope s : {Scope::kRead, Scope::kReplay, Scope::kCommands, Scope::kAdmin}) {
    if (ScopeName(s) == name) return s;
  }
  return std::nullopt;
}

std::vector<std::string> ScopeNames() { return {"read", "replay", "commands", "admin"}; }

bool AdminToken::Grants(Scope scope) const { return HasScope(scopes, scope); }
bool AdminCaller::Grants(Scope scope) const { return HasScope(scopes, scope); }

Result<AdminAccess> AdminAccess::FromConfig(const config::Config& config) {
  std::vector<AdminToken> tokens;
  std::vector<std::string> errors;
  // Where each token was declared, for the errors below.
  std::vector<std::pair<const config::Section*, std::string>> origin;
  const config::Section& admin = config.Get("admin");
  if (admin.Has("token_file")) {
    tokens.push_back({"admin", admin.GetSecret("token_file"), {Scope::kAdmin}});
    origin.emplace_back(&admin, "token_file");
  }
  for (const config::Section& s : config.SubSections("admin.tokens")) {
    AdminToken token;
    token.name = s.id();
    token.secret = s.GetSecret("token_file");
    for (const std::string& name : s.GetStringList("scopes")) {
      // The schema lists the choices; this is for a schema that drifted.
      std::optional<Scope> scope = ParseScope(name);
      if (!scope) {
        errors.push_back(s.ErrorAt("scopes", "unknown scope \"" + name + "\"").message());
        continue;
      }
      if (std::find(token.scopes.begin(), token.scopes.end(), *scope) == token.scopes.end()) {
        token.scopes.push_back(*scope);
      }
    }
    if (token.scopes.empty()) {
      errors.push_back(s.ErrorAt("scopes",
                                 "name at least one scope (read, replay, commands, "
                                 "admin)")
                           .message());
    }
    bool valid_name = !token.name.empty() && token.name.size() <= 64;
    for (char c : token.name) {
      valid_name =
          valid_name && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_');
    }
    if (!valid_name) {
      errors.push_back(s.ErrorAt("token_file",
                                 "a token's name may contain only a-z, 0-9, '-' "
                                 "and '_' (at most 64)")
                           .message());
    }
    if (token.secret.Reveal().size() < 16) {
      // Bearer tokens are guessed online; 16 characters of a random token
      // (openssl rand -hex 16 gives 32) is the least we take.
      errors.push_back(
          s.ErrorAt("token_file", "the token is shorter than 16 characters").message());
    }
    tokens.push_back(std::move(token));
    origin.emplace_back(&s, "token_file");
  }
  for (size_t i = 0; i < tokens.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (tokens[i].name == tokens[j].name) {
        errors.push_back(
            origin[i]
                .first
                ->ErrorAt(origin[i].second, "the token name \"" + tokens[i].name +
                                                "\" is used twice ([admin] token_file is "
                                                "named \"admin\")")
                .message());
      } else if (!tokens[i].secret.empty() && tokens[i].secret.Matches(tokens[j].secret.Reveal())) {
        errors.push_back(origin[i]
                             .first
                             ->ErrorAt(origin[i].second, "the same token as \"" + tokens[j].name +
                                                             "\": the audit journal could not tell "
                                                             "them apart")
                             .message());
      }
    }
  }
  if (!errors.empty()) {
    std::string all;
    for (const std::string& e : errors) all += (all.empty() ? "" : "\n") + e;
    return Status::InvalidArgument(all);
  }
  return AdminAccess(std::move(tokens));
}

std::optional<AdminCaller> AdminAccess::Identify(const net::HeaderMap& headers) const {
  std::optional<std::string_view> auth = headers.Get("Authorization");
  if (!auth || auth->size() <= kBearer.size() ||
      !net::EqualsIgnoreCase(auth->substr(0, kBearer.size()), kBearer)) {
    return std::nullopt;
  }
  const std::string_view presented = auth->substr(kBearer.size());
  const AdminToken* match = nullptr;
  for (const AdminToken& t : tokens_) {
    // No early exit: the time taken does not say which token matched.
    if (!t.secret.empty() && t.secret.Matches(presented) && match == nullptr) match = &t;
  }
  if (match == nullptr) return std::nullopt;
  return AdminCaller{match->name, match->scopes};
}

Scope ScopeNeeded(std::string_view method, std::string_view path) {
  constexpr std::string_view kApi = "/api/v1/";
  if (!StartsWith(path, kApi)) return Scope::kRead;  // /metrics
  std::string_view rest = path.substr(kApi.size());
  if (rest == "commands") return method == "POST" ? Scope::kCommands : Scope::kRead;
  if (rest == "audit" || StartsWith(rest, "audit/")) return Scope::kAdmin;
  // A file handed to an adapter is data coming in, as a command is.
  if (StartsWith(rest, "adapters/") && rest.ends_with("/files") && method == "POST") {
    return Scope::kCommands;
  }
  if (StartsWith(rest, "dead-letters/")) {
    if (method == "DELETE") return Scope::kAdmin;
    if (method == "POST") {
      if (rest.ends_with("/drop")) return Scope::kAdmin;
      return Scope::kReplay;  // .../{id}/replay and /dead-letters/replay
    }
  }
  return Scope::kRead;
}

net::HttpResponse Unauthorized() {
  auto r = net::HttpResponse::Error(401, "unauthorized", "a valid bearer token is required");
  r.headers.Set("WWW-Authenticate", "Bearer realm=\"crmhub\"");
  return r;
}

net::HttpResponse Forbidden(const AdminCaller& caller, Scope needed) {
  auto r = net::HttpResponse::Error(
      403, "forbidden",
      fmt::format("the token \"{}\" lacks the {} scope", caller.name, ScopeName(needed)));
  r.headers.Set("WWW-Authenticate", fmt::format("Bearer realm=\"crmhub\", error=\"insufficient_"
                                                "scope\", scope=\"{}\"",
                                                ScopeName(needed)));
  return r;
}

}  // namespace crmhub::daemon
