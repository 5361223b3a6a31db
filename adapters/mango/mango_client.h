#pragma once
// MangoClient: the VPBX API calls the adapter makes (contracts/telephony/
// README.md §1): POST <base_url>/commands/callback, a form of vpbx_api_key,
// sign = sha256(vpbx_api_key + json + vpbx_api_salt) and json, as every
// request to Mango is signed (§2.4.3). Limits (§1.4.2): callback 4 a second
// per product, refused here before sending (kThrottled) rather than by
// Mango's 429.
//
// Thread-safety: Callback may be called from several threads at once.

#include <chrono>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/secret.h"
#include "net/api_client.h"
#include "net/rate_limiter.h"

namespace crmhub::adapters::mango {

struct MangoClientOptions {
  std::string base_url = "https://app.mango-office.ru/vpbx";
  Secret api_key;
  Secret api_salt;
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
};

// What click-to-call asks: Mango rings the employee's extension, then dials
// the number. `command_id` comes back in the call's events (command_id).
struct CallbackRequest {
  std::string command_id;
  std::string from_extension;
  std::string to_number;
  std::string line_number;  // the number the customer sees; "": the default line
};

class MangoClient {
 public:
  MangoClient(MangoClientOptions options, net::Transport transport, const Clock& clock);

  // OK when Mango answered {"result": 1000}; any other result code is
  // kRejected with Mango's code in the message.
  net::ApiResult<net::ApiAnswer> Callback(const CallbackRequest& request) const;

 private:
  const MangoClientOptions options_;
  std::unique_ptr<net::TokenBucket> callback_limit_;
  net::ApiClient api_;
};

}  // namespace crmhub::adapters::mango
