#pragma once
// The operations of an official OpenAPI spec, for the contract tests'
// deprecation check: "no operation an adapter calls is marked deprecated".
// Prism validates what the schemas say; this reads what the spec says of
// the operations themselves (`deprecated: true`, Yandex Market's
// x-deprecation-config shutdown date and replacement).
//
// The spec is read by tests/contract/spec_operations.js (Node.js and the
// pinned js-yaml that `npm ci --prefix tests/contract` installs): JSON or
// YAML, multi-file path items included. When Node or the package is missing
// the load fails with the install hint: the tests fail, never skip.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace crmhub::testing {

struct SpecOperation {
  std::string method;  // "GET"
  std::string path;    // as in the spec: "/v2/campaigns/{campaignId}/orders"
  std::string operation_id;
  bool deprecated = false;
  std::string shutdown;     // x-deprecation-config shutdown-date, if any
  std::string replacement;  // x-deprecation-config replacement-operation-id
  std::string scope;        // x-crmhub-scope (crmhub's own docs/api.yaml)

  // Whether a request (method and concrete path, no query) is this
  // operation: "{...}" segments match any one non-empty segment.
  bool Matches(std::string_view method, std::string_view path) const;
};

// Every operation of each spec file (absolute paths).
Result<std::vector<SpecOperation>> LoadSpecOperations(const std::vector<std::string>& specs);

// What a set of calls (method, concrete path) finds in a spec.
struct CallFindings {
  std::vector<std::string>
      deprecated;  // "GET /v2/.../orders (getOrders, shutdown 2027-04-12, use getBusinessOrders)"
  std::vector<std::string> unknown;  // calls matching no operation
};
CallFindings CheckCalls(const std::vector<SpecOperation>& operations,
                        const std::vector<std::pair<std::string, std::string>>& calls);

}  // namespace crmhub::testing
