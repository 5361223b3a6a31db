#include "adapters/kit/push_auth.h"

#include <utility>

namespace crmhub::adapters::kit {

Status PushAuth::Check(const net::HttpRequest& request) const {
  if (!allow_ips.empty() && !allow_ips.Contains(request.remote_address)) {
    return Status::PermissionDenied("sender address not in push_allow_ips");
  }
  if (!token.empty()) {
    auto presented = request.QueryParam("token");
    if (!presented || !token.Matches(*presented)) {
      return Status::Unauthenticated("missing or wrong token");
    }
  }
  return Status::Ok();
}

PushAuthKeys::PushAuthKeys(config::KeySet& set, const std::string& system,
                           const std::vector<std::string>& default_allow_ips)
    : allow_ips(set.Declare<config::Type::kStringList>(
          {.name = "push_allow_ips",
           .default_value = config::TomlStringList(default_allow_ips),
           .description = "Addresses allowed to post push notifications to /hooks/<id> (" + system +
                          "'s published sender ranges by default). Empty: any."})),
      token_file(set.Declare<config::Type::kSecret>(
          {.name = "push_token_file",
           .description = "Optional secret the push URL registered in " + system +
                          "'s cabinet carries as ?token=<secret> (" + system +
                          " signs nothing, so this is the shared secret)."})) {}

Result<PushAuth> ReadPushAuth(const config::Section& section, const PushAuthKeys& keys) {
  PushAuth auth;
  auto allow = net::CidrList::Parse(keys.allow_ips.Get(section));
  if (!allow.ok()) return keys.allow_ips.ErrorAt(section, allow.status().message());
  auth.allow_ips = std::move(allow).value();
  if (keys.token_file.IsSet(section)) {
    auth.token = keys.token_file.Get(section);
    if (auth.token.empty()) return keys.token_file.ErrorAt(section, "the secret file is empty");
  }
  return auth;
}

}  // namespace crmhub::adapters::kit
