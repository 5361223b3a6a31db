#include "adapters/onec_odata/onec_odata_client.h"

#include <utility>

#include "adapters/kit/malformed_answer.h"
#include "base/json_get.h"
#include "net/hmac.h"

namespace crmhub::adapters::onec_odata {
namespace {

using nlohmann::json;

net::ApiDialect ODataDialect() {
  net::ApiDialect d;
  d.system = "onec-odata";
  // {"odata.error": {"code": "…", "message": {"lang": "ru-RU", "value": "…"}}} [S].
  d.error_text = [](const json& body) {
    const json* error = JsonObject(body, "odata.error");
    if (error == nullptr) return std::string();
    const json* message = JsonObject(*error, "message");
    std::string text(message != nullptr ? JsonString(*message, "value").value_or("")
                                        : std::string_view());
    std::string code(JsonString(*error, "code").value_or(""));
    if (!code.empty()) text = code + (text.empty() ? "" : ": ") + text;
    return text;
  };
  return d;
}

net::ApiError Malformed(const std::string& what, const net::ApiAnswer& answer) {
  return kit::MalformedAnswer("onec-odata", what, answer);
}

std::string EncodePath(const std::string& set) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t slash = set.find('/', start);
    out += net::UrlEncode(std::string_view(set).substr(start, slash - start));
    if (slash == std::string::npos) break;
    out += '/';
    start = slash + 1;
  }
  return out;
}

std::string EntityPath(const std::string& ref_key) {
  return "(guid'" + net::UrlEncode(ref_key) + "')";
}

}  // namespace

std::string ODataLiteral(const std::string& field, const std::string& value) {
  const bool ref = field == "Ref_Key" || field == "Recorder" ||
                   (field.size() > 4 && field.compare(field.size() - 4, 4, "_Key") == 0);
  if (ref) return "guid'" + value + "'";
  if (field == "Period" || field == "Date") return "datetime'" + value + "'";
  std::string quoted = "'";
  for (char c : value) {
    quoted += c;
    if (c == '\'') quoted += '\'';
  }
  return quoted + "'";
}

OnecODataClient::OnecODataClient(OnecODataClientOptions options, net::Transport transport,
                                 const Clock& clock)
    : options_(std::move(options)),
      api_(
          [&] {
            net::ApiClientOptions o{.dialect = ODataDialect(), .timeout = options_.timeout};
            o.headers.Set(
                "Authorization",
                "Basic " + net::Base64Encode(options_.user + ":" + options_.password.Reveal()));
            o.headers.Set("Accept", "application/json");
            return o;
          }(),
          std::move(transport), clock) {}

std::string OnecODataClient::SetUrl(const std::string& set) const {
  return options_.base_url + "/odata/standard.odata/" + EncodePath(set);
}

net::ApiResult<std::vector<json>> OnecODataClient::List(const ListQuery& query) const {
  net::ApiRequest r;
  r.method = "GET";
  r.url = SetUrl(query.set) + "?$format=json";
  if (!query.filter.empty()) r.url += "&$filter=" + net::UrlEncode(query.filter);
  if (!query.orderby.empty()) r.url += "&$orderby=" + net::UrlEncode(query.orderby);
  if (query.top > 0) r.url += "&$top=" + std::to_string(query.top);
  net::ApiResult<net::ApiAnswer> answer = api_.Call(std::move(r));
  if (!answer.ok()) return answer.error();
  const json* value = JsonArray(answer->json, "value");
  if (value == nullptr) return Malformed("GET " + query.set + ": no \"value\" array", *answer);
  return std::vector<json>(value->begin(), value->end());
}

net::ApiResult<json> OnecODataClient::Get(const std::string& set,
                                          const std::string& ref_key) const {
  net::ApiRequest r;
  r.method = "GET";
  r.url = SetUrl(set) + EntityPath(ref_key) + "?$format=json";
  net::ApiResult<net::ApiAnswer> answer = api_.Call(std::move(r));
  if (!answer.ok()) return answer.error();
  if (!answer->json.is_object()) return Malformed("GET " + set + ": not an entity", *answer);
  return std::move(answer->json);
}

net::ApiResult<json> OnecODataClient::Create(const std::string& set, const json& body) const {
  net::ApiRequest r;
  r.method = "POST";
  r.url = SetUrl(set) + "?$format=json";
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  net::ApiResult<net::ApiAnswer> answer = api_.Call(std::move(r));
  if (!answer.ok()) return answer.error();
  if (!answer->json.is_object() || !JsonString(answer->json, "Ref_Key")) {
    return Malformed("POST " + set + ": the answer names no Ref_Key", *answer);
  }
  return std::move(answer->json);
}

net::ApiResult<json> OnecODataClient::Patch(const std::string& set, const std::string& ref_key,
                                            const std::string& data_version,
                                            const json& body) const {
  net::ApiRequest r;
  r.method = "PATCH";
  r.url = SetUrl(set) + EntityPath(ref_key) + "?$format=json";
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  r.headers.Set("If-Match", data_version);
  net::ApiResult<net::ApiAnswer> answer = api_.Call(std::move(r));
  if (!answer.ok()) return answer.error();
  return std::move(answer->json);
}

}  // namespace crmhub::adapters::onec_odata
