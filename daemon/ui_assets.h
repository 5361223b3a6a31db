#pragma once
// The ops status page's files (daemon/ui/: index.html, app.js, style.css),
// compiled into the binary by cmake/embed_ui.cmake and served under /ui/ on
// the admin listener (daemon/http_routes.cc). The page itself holds no
// data: it calls the admin API with the operator's bearer token.

#include <string_view>

namespace crmhub::daemon {

struct UiAsset {
  std::string_view name;          // "index.html"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view body;
};

// The file named `name` (the path after /ui/; "" is index.html), or null.
const UiAsset* FindUiAsset(std::string_view name);

}  // namespace crmhub::daemon
