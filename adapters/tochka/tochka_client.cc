#include "adapters/tochka/tochka_client.h"

#include <utility>

#include "base/json_get.h"

namespace crmhub::adapters::tochka {
namespace {

using nlohmann::json;

net::ApiDialect TochkaDialect() {
  net::ApiDialect d;
  d.system = "tochka";
  // Errors: {"code","id","message","Errors":[{"errorCode","message","url"}]}.
  d.error_text = [](const json& body) {
    std::string text(JsonString(body, "message").value_or(""));
    if (const json* errors = JsonArray(body, "Errors"); errors != nullptr && !errors->empty()) {
      std::string first((*errors)[0].is_object() ? JsonString((*errors)[0], "message").value_or("")
                                                 : std::string_view());
      if (!first.empty()) text += (text.empty() ? "" : ": ") + first;
    }
    return text;
  };
  return d;
}

net::ApiError Malformed(const std::string& what, const net::ApiAnswer& answer) {
  net::ApiError e;
  e.kind = net::ApiError::Kind::kRejected;
  e.http_status = answer.status;
  e.message = "tochka: " + what;
  e.body = answer.body;
  return e;
}

// Data.Statement as an object (the init answer) or the first of an array
// (the get answer).
net::ApiResult<StatementAnswer> ReadStatement(const net::ApiAnswer& answer, const char* call) {
  const json* data = JsonObject(answer.json, "Data");
  if (data == nullptr) return Malformed(std::string(call) + ": no Data in the answer", answer);
  const json* statement = JsonObject(*data, "Statement");
  if (statement == nullptr) {
    const json* list = JsonArray(*data, "Statement");
    if (list != nullptr && !list->empty() && (*list)[0].is_object()) statement = &(*list)[0];
  }
  if (statement == nullptr) {
    return Malformed(std::string(call) + ": no Data.Statement in the answer", answer);
  }
  StatementAnswer out;
  out.statement_id = std::string(JsonString(*statement, "statementId").value_or(""));
  out.status = std::string(JsonString(*statement, "status").value_or(""));
  if (out.status.empty())
    return Malformed(std::string(call) + ": a statement without status", answer);
  out.statement = *statement;
  return out;
}

}  // namespace

TochkaClient::TochkaClient(TochkaClientOptions options, net::Transport transport,
                           const Clock& clock)
    : options_(std::move(options)),
      api_(
          [&] {
            net::ApiClientOptions o{.dialect = TochkaDialect(), .timeout = options_.timeout};
            o.headers.Set("Authorization", "Bearer " + options_.token.Reveal());
            o.headers.Set("Accept", "application/json");
            return o;
          }(),
          std::move(transport), clock) {}

net::ApiResult<StatementAnswer> TochkaClient::InitStatement(const std::string& account_id,
                                                            const std::string& from,
                                                            const std::string& to) const {
  net::ApiRequest r;
  r.method = "POST";
  r.url = options_.base_url + "/open-banking/v1.0/statements";
  r.group = "statements";
  r.body = json{{"Data",
                 {{"Statement",
                   {{"accountId", account_id}, {"startDateTime", from}, {"endDateTime", to}}}}}}
               .dump();
  net::ApiResult<net::ApiAnswer> answer = api_.Call(std::move(r));
  if (!answer.ok()) return answer.error();
  auto statement = ReadStatement(*answer, "POST /open-banking/v1.0/statements");
  if (statement.ok() && statement->statement_id.empty()) {
    return Malformed("POST /open-banking/v1.0/statements: no statementId", *answer);
  }
  return statement;
}

net::ApiResult<StatementAnswer> TochkaClient::GetStatement(const std::string& account_id,
                                                           const std::string& statement_id) const {
  net::ApiRequest r;
  r.method = "GET";
  r.url = options_.base_url + "/open-banking/v1.0/accounts/" + net::UrlEncode(account_id) +
          "/statements/" + net::UrlEncode(statement_id);
  r.group = "statements";
  net::ApiResult<net::ApiAnswer> answer = api_.Call(std::move(r));
  if (!answer.ok()) return answer.error();
  return ReadStatement(*answer, "GET /open-banking/v1.0/accounts/{accountId}/statements/{id}");
}

}  // namespace crmhub::adapters::tochka
