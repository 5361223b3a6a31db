#pragma once
// CrmSink: how canonical entities reach the CRM core.
//
// Two implementations: the embedded SQLite CRM store (crm/sqlite_store.h, the
// default) and the CRM core's REST API (crm/rest_sink.h). The pipeline calls
// Apply from a delivery worker thread (never an I/O thread): it may block.
//
// Contract: applying the same event twice changes nothing the second time
// (idempotent by the event's idempotency key and each entity's version).

#include <string>
#include <vector>

#include "base/clock.h"
#include "base/delivery.h"
#include "base/status.h"
#include "mapping/model/entity.h"

namespace crmhub::crm {

struct SinkEvent {
  std::string source;           // adapter id
  std::string idempotency_key;  // the queue message's key (unique per source)
  int64_t message_id = 0;       // the queue message id, for the journal
  SystemTime received_at;
  std::vector<model::Entity> entities;  // in apply order
  // The entities passed model::ValidateEntity already (mapping rules check
  // every entity they build): a sink need not check them again.
  bool validated = false;
};

class CrmSink {
 public:
  virtual ~CrmSink() = default;
  // One outcome per event, in order. Blocking.
  virtual std::vector<DeliveryOutcome> Apply(const std::vector<SinkEvent>& events) = 0;
  virtual std::string_view name() const = 0;  // "sqlite", "http"
  // Housekeeping the daemon runs now and then off the delivery path (e.g.
  // forgetting idempotency records past their retention). Bounded work per
  // call. Default: nothing to do (a remote CRM keeps its own records).
  virtual Status Maintain() { return Status::Ok(); }
};

}  // namespace crmhub::crm
