#pragma once
// YooKassaClient: the API v3 calls the adapter makes (contracts/payments/
// README.md §1): GET <base_url>/payments/{id} and GET <base_url>/refunds/{id}
// with HTTP Basic shop_id:secret_key, answering the object as YooKassa holds
// it now. Errors are net::ApiError (404: no such object in this shop).
//
// Thread-safety: Get may be called from several threads at once.

#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/secret.h"
#include "net/api_client.h"

namespace crmhub::adapters::yookassa {

struct YooKassaClientOptions {
  std::string base_url = "https://api.yookassa.ru/v3";
  std::string shop_id;
  Secret secret_key;
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
};

// "payments" or "refunds": the collection an object lives in.
enum class ObjectKind { kPayment, kRefund };

class YooKassaClient {
 public:
  YooKassaClient(YooKassaClientOptions options, net::Transport transport, const Clock& clock);

  // The object `id` of `kind`. REQUIRES: `id` is a YooKassa id (letters,
  // digits, '-' and '_'; the adapter checks before asking).
  net::ApiResult<nlohmann::json> Get(ObjectKind kind, std::string_view id) const;

  // POST /v3/payments or /v3/refunds with `body` and the Idempotence-Key
  // `key` (REQUIRES: 1..64 characters). The answer as the API gave it: 200
  // with the object, or 202 {"type":"processing","retry_after":ms} (the
  // caller repeats with the same key and body); errors as net::ApiError,
  // the API's answer in ApiError::body.
  net::ApiResult<net::ApiAnswer> Create(ObjectKind kind, std::string_view key,
                                        std::string body) const;

 private:
  const YooKassaClientOptions options_;
  net::ApiClient api_;
};

}  // namespace crmhub::adapters::yookassa
