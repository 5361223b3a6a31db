#pragma once
// TbankClient: the acquiring API calls the adapter makes (contracts/
// payments/README.md §3): POST <base_url>/Init, /GetState and /Cancel, JSON bodies
// signed with the Token (TbankToken: the root-level values and the
// password). T-Bank answers a refusal as 200 {"Success":false,
// "ErrorCode":..}: that is kRejected here, with the code in the message.
//
// Thread-safety: calls may run on several threads at once.

#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/secret.h"
#include "net/api_client.h"

namespace crmhub::adapters::tbank {

struct TbankClientOptions {
  std::string base_url = "https://securepay.tinkoff.ru/v2";
  std::string terminal_key;
  Secret password;
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
};

class TbankClient {
 public:
  TbankClient(TbankClientOptions options, net::Transport transport, const Clock& clock);

  // POST <base_url>/<method> with `params` + TerminalKey + Token; the
  // answer's JSON when Success is true.
  net::ApiResult<nlohmann::json> Call(std::string_view method, nlohmann::json params) const;

 private:
  const TbankClientOptions options_;
  net::ApiClient api_;
};

}  // namespace crmhub::adapters::tbank
