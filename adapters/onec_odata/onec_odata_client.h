#pragma once
// OnecODataClient: the calls of 1C:Enterprise's standard OData interface
// (OData v3) crmhub makes (contracts/onec/README.md §1):
//   GET   <base>/odata/standard.odata/<Set>?$format=json[&$filter=][&$orderby=][&$top=]
//         → {"odata.metadata": "…#<Set>", "value": [ … ]}
//   GET   <base>/odata/standard.odata/<Set>(guid'<Ref_Key>')?$format=json
//         → the entity's fields at the top level
//   POST  <base>/odata/standard.odata/<Set>?$format=json          (create)
//   PATCH <base>/odata/standard.odata/<Set>(guid'<Ref_Key>')?$format=json
//         with If-Match: the DataVersion the change was made against
// Auth: HTTP Basic of a 1C user [S]. Errors {"odata.error": {"code",
// "message": {"lang", "value"}}} [S]. Rate limits: not found (they are the
// 1C cluster's): none is assumed; 429 and 5xx are classified by
// net::ApiClient. Entity-set names are Cyrillic and percent-encoded per
// path segment ("AccumulationRegister_ТоварыНаСкладах/Balance" keeps its
// '/').
//
// Thread-safety: the calls may run on several threads at once.

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/secret.h"
#include "net/api_client.h"

namespace crmhub::adapters::onec_odata {

struct OnecODataClientOptions {
  std::string base_url;  // the publication's root: http://host/trade
  std::string user;
  Secret password;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

struct ListQuery {
  std::string set;      // "Catalog_Контрагенты", "AccumulationRegister_X/Balance"
  std::string filter;   // $filter, OData v3 syntax; empty: none
  std::string orderby;  // $orderby; empty: none
  int top = 0;          // $top; 0: none
};

class OnecODataClient {
 public:
  OnecODataClient(OnecODataClientOptions options, net::Transport transport, const Clock& clock);

  // The "value" array of a list answer (kRejected when it has none).
  net::ApiResult<std::vector<nlohmann::json>> List(const ListQuery& query) const;
  // One entity by its Ref_Key.
  net::ApiResult<nlohmann::json> Get(const std::string& set, const std::string& ref_key) const;
  // Creates an entity; the answer is the created entity (with its Ref_Key
  // and DataVersion).
  net::ApiResult<nlohmann::json> Create(const std::string& set, const nlohmann::json& body) const;
  // Changes an entity made against `data_version` (If-Match); a 412 is
  // kRejected with http_status 412: someone changed it meanwhile.
  net::ApiResult<nlohmann::json> Patch(const std::string& set, const std::string& ref_key,
                                       const std::string& data_version,
                                       const nlohmann::json& body) const;

  // "<base>/odata/standard.odata/<Set, encoded>" (exposed for tests).
  std::string SetUrl(const std::string& set) const;

 private:
  const OnecODataClientOptions options_;
  net::ApiClient api_;
};

// The OData v3 literal of a key value: guid'…' for a reference (a name
// ending in "_Key", or Ref_Key), datetime'…' for Period and Date, else a
// quoted string with ' doubled.
std::string ODataLiteral(const std::string& field, const std::string& value);

}  // namespace crmhub::adapters::onec_odata
