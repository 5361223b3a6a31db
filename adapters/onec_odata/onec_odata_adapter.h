#pragma once
// The `onec-odata` adapter: 1C:Enterprise through its standard OData
// interface (contracts/onec/README.md §1; docs/adapters/onec-odata.md).
//
// Pull: the configured entity sets in turn (counterparties, products,
// prices, stock, orders, payments by default), each swept with keyset
// paging: `$orderby` its key fields, `$filter` past the last key of the page
// before, `$top` page_size; never `$skip`. A page shorter than page_size
// ends the set's sweep and the next set begins; after the last set the
// poll interval passes and the sweeps start again. 1C has no "changed
// since" filter (DataVersion is an opaque stamp, compared for equality
// only, README §1), so a change is found by the sweep meeting the record
// again with another DataVersion: each record is keyed
//   onec-odata:<set name>:<key values>:<DataVersion>
// (records without one, register rows, by a hash of their content), so an
// unchanged record is a duplicate at the queue and a changed one is new.
// The cursor (the set in turn and the last key of each set's sweep) is
// returned with the page and saved by the runtime only after the page's
// events are durable, so a crash re-reads at most one page.
//
// Exchange plans (`SelectChanges` / `NotifyChangesReceived`): not in the
// contracts (README §1 names the ExchangePlan_ entity sets only), so not
// used; the keyset sweep is the only change detection.
//
// Each record is queued as 1C sent it plus "_set" (the set's name) and, for
// "Date" and "Period", "_date" and "_period": the 1C server's local time
// (server_timezone) with its offset, so the mapping reads an absolute time,
// and for a counterparty "_phone" and "_email": the first of each kind in
// its КонтактнаяИнформация rows.
//
// Push (a target): commands from POST /api/v1/commands,
//   upsert_order   {"external_id", "lines": [{"product_key" (a Номенклатура
//                  Ref_Key), "quantity", "price", "total" (minor units)}],
//                  "counterparty_key", "total", "created_ms"}
//                  → the orders set (Document_ЗаказКлиента)
//   upsert_contact {"external_id", "name", "inn", "phone", "email"}
//                  → the counterparties set (Catalog_Контрагенты)
// Idempotent by our id kept in a 1C attribute (external_id_attribute,
// "crmhub:<external_id>"): each command first looks the entity up by it
// ($filter); none → POST; one → PATCH with If-Match: its DataVersion. A 412
// (changed in 1C meanwhile) → re-read, re-map, PATCH once more against the
// fresh DataVersion; a second 412 → Fail (a dead letter) naming both
// versions. A create whose answer was lost (a timeout) is retried by the
// queue, and the lookup then finds it: one document.
//
// Thread-safety: immutable after construction.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/adapter.h"
#include "adapters/kit/target.h"
#include "adapters/onec_odata/onec_odata_client.h"

namespace crmhub::adapters::onec_odata {

// One entity set the pull sweeps.
struct EntitySetSpec {
  std::string name;               // "orders": the record's _set and the event kind
  std::string set;                // "Document_ЗаказКлиента"
  std::vector<std::string> keys;  // the keyset order: unique together
};

// The sets a name may stand for, and their defaults (README §1 names the
// families; the sets themselves are those of 1C:Управление торговлей 11,
// not in the contracts: override with entity_sets).
std::vector<EntitySetSpec> DefaultEntitySets();

struct OnecODataConfig {
  std::string id;
  std::vector<EntitySetSpec> sets;
  int offset_minutes = 180;  // server_timezone
  int page_size = 500;
  // The 1C attribute our id is kept in ("crmhub:<external_id>") on the
  // orders and counterparties we write.
  std::string external_id_attribute = "Комментарий";
  std::chrono::milliseconds poll_interval{std::chrono::minutes(1)};
};

inline constexpr std::string_view kUpsertOrder = "upsert_order";
inline constexpr std::string_view kUpsertContact = "upsert_contact";

class OnecODataAdapter final : public Adapter, public SourceCapability, public TargetCapability {
 public:
  OnecODataAdapter(OnecODataConfig config, std::unique_ptr<OnecODataClient> client)
      : config_(std::move(config)), client_(std::move(client)) {}

  const std::string& id() const override { return config_.id; }
  std::string_view type() const override { return "onec-odata"; }
  SourceCapability* source() override { return this; }
  TargetCapability* target() override { return this; }

  Result<PullResult> Pull(const std::optional<std::string>& cursor) override;
  std::chrono::milliseconds poll_interval() const override { return config_.poll_interval; }

  std::vector<DeliveryOutcome> Deliver(std::span<const Command> batch) override;
  int max_batch() const override { return 20; }
  std::vector<std::string> commands() const override {
    return {std::string(kUpsertOrder), std::string(kUpsertContact)};
  }

 private:
  std::string SetFor(std::string_view name) const;
  // The 1C body of a command (onec_odata_push.cc).
  Result<nlohmann::json> Body(const kit::TargetCommand& c) const;
  DeliveryOutcome Upsert(const kit::TargetCommand& c) const;

  const OnecODataConfig config_;
  const std::unique_ptr<OnecODataClient> client_;
};

// `record` as queued: plus "_set", "_date"/"_period" with the server's
// offset (absent for 1C's empty date 0001-01-01T00:00:00), "_phone" and
// "_email". Pure.
nlohmann::json QueuedRecord(const nlohmann::json& record, std::string_view set_name,
                            int offset_minutes);

// The $filter that continues a keyset sweep after `after` (one value per
// key): k1 gt v1 or (k1 eq v1 and k2 gt v2) or ...
std::string KeysetFilter(const std::vector<std::string>& keys,
                         const std::vector<std::string>& after);

// The `onec-odata` type: config keys and factory (onec_odata_type.cc).
AdapterType Type();

}  // namespace crmhub::adapters::onec_odata
