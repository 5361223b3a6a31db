#include "crm/sink_factory.h"

#include "crm/rest_sink.h"
#include "crm/sqlite_store.h"
#include "crm/store_schema.h"

namespace crmhub::crm {

Result<std::unique_ptr<CrmSink>> MakeSink(const SinkOptions& options, Clock& clock,
                                          net::HttpClient* http_client) {
  if (options.type == "sqlite") {
    if (options.data_dir.empty()) return Status::InvalidArgument("crm sink sqlite: no data_dir");
    SqliteStoreOptions store;
    store.path = options.data_dir / std::string(kCrmDbFileName);
    store.busy_timeout_ms = options.busy_timeout_ms;
    store.lead_merge_window = options.lead_merge_window;
    auto precedence = model::DeclaredStatusPrecedence::FromEntries(options.order_status_precedence);
    if (!precedence.ok()) {
      return Status::InvalidArgument("[crm] order_status_precedence: " +
                                     precedence.status().message());
    }
    store.order_status_precedence = std::move(*precedence);
    auto opened = SqliteCrmStore::Open(store, clock);
    if (!opened.ok()) return opened.status();
    return std::unique_ptr<CrmSink>(std::move(opened).value());
  }
  if (options.type == "http") {
    if (options.url.rfind("http://", 0) != 0 && options.url.rfind("https://", 0) != 0) {
      return Status::InvalidArgument(
          "[crm] url: sink = \"http\" needs an http:// or https:// base URL");
    }
    if (options.token.empty()) {
      return Status::InvalidArgument("[crm] token_file: sink = \"http\" needs a bearer token");
    }
    if (http_client == nullptr) return Status::InvalidArgument("crm sink http: no HTTP client");
    RestSinkOptions rest;
    rest.base_url = options.url;
    rest.token = options.token;
    rest.timeout = options.timeout;
    rest.max_in_flight = options.max_in_flight;
    return std::unique_ptr<CrmSink>(
        std::make_unique<RestCrmSink>(*http_client, clock, std::move(rest)));
  }
  return Status::InvalidArgument("[crm] sink: unknown sink \"" + options.type +
                                 "\" (sqlite or http)");
}

}  // namespace crmhub::crm
