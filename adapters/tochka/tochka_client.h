#pragma once
// TochkaClient: the statement calls of Tochka's open API (the official
// OpenAPI in contracts/banks/tochka/, README §2). A statement is asked for,
// then fetched until it is ready:
//   POST /open-banking/v1.0/statements
//        {"Data":{"Statement":{"accountId","startDateTime","endDateTime"}}}
//        → Data.Statement{statementId, status, ...}
//   GET  /open-banking/v1.0/accounts/{accountId}/statements/{statementId}
//        → Data.Statement[0]{status, startDateBalance, endDateBalance,
//          Transaction[]}; status Created | Processing | Error | Ready.
// Auth: "Authorization: Bearer <token>". Rate limits: not found in the spec
// or the docs (README §2): none is assumed here; 429 and 5xx are classified
// by net::ApiClient.
//
// Thread-safety: the calls may run on several threads at once.

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/secret.h"
#include "net/api_client.h"

namespace crmhub::adapters::tochka {

struct TochkaClientOptions {
  std::string base_url = "https://enter.tochka.com/uapi";
  Secret token;
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
};

struct StatementAnswer {
  std::string statement_id;
  std::string status;        // Created | Processing | Error | Ready
  nlohmann::json statement;  // Data.Statement (the object) as Tochka sent it
};

class TochkaClient {
 public:
  TochkaClient(TochkaClientOptions options, net::Transport transport, const Clock& clock);

  // `from`, `to`: YYYY-MM-DD (the spec's format: date).
  net::ApiResult<StatementAnswer> InitStatement(const std::string& account_id,
                                                const std::string& from,
                                                const std::string& to) const;
  net::ApiResult<StatementAnswer> GetStatement(const std::string& account_id,
                                               const std::string& statement_id) const;

 private:
  const TochkaClientOptions options_;
  net::ApiClient api_;
};

}  // namespace crmhub::adapters::tochka
