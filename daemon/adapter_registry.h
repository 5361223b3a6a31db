#pragma once
// THE list of adapter types crmhub knows (no static-init registration, no
// singletons): `type = "..."` in an [adapters.<id>] section picks one.
// Adding an adapter type is adding one line to AllAdapterTypes() in
// daemon/adapter_registry.cc (and its library to adapters/CMakeLists.txt).

#include <string_view>
#include <vector>

#include "adapters/adapter.h"

namespace crmhub::daemon {

// Every adapter type, in the order docs list them.
std::vector<adapters::AdapterType> AllAdapterTypes();

// The type named `type` in `types`, or null.
const adapters::AdapterType* FindAdapterType(const std::vector<adapters::AdapterType>& types,
                                             std::string_view type);

}  // namespace crmhub::daemon
