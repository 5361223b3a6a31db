#include "adapters/webhook/push_auth.h"

#include <utility>

namespace crmhub::adapters::webhook {

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

Result<PushAuth> ReadPushAuth(const config::Section& section) {
  PushAuth auth;
  auto allow = net::CidrList::Parse(section.GetStringList("push_allow_ips"));
  if (!allow.ok()) return section.ErrorAt("push_allow_ips", allow.status().message());
  auth.allow_ips = std::move(allow).value();
  if (section.Has("push_token_file")) {
    auth.token = section.GetSecret("push_token_file");
    if (auth.token.empty()) return section.ErrorAt("push_token_file", "the secret file is empty");
  }
  return auth;
}

}  // namespace crmhub::adapters::webhook
