// The onec-odata adapter's keyset pull (onec_odata_adapter.h).

#include <cstdio>

#include "adapters/kit/unreadable_record.h"
#include "adapters/onec_odata/onec_odata_adapter.h"
#include "base/json_get.h"

namespace crmhub::adapters::onec_odata {
namespace {

using nlohmann::json;

constexpr std::string_view kEmptyDate = "0001-01-01T00:00:00";

std::string OffsetText(int minutes) {
  char buf[32];
  const int a = minutes < 0 ? -minutes : minutes;
  std::snprintf(buf, sizeof(buf), "%c%02d:%02d", minutes < 0 ? '-' : '+', a / 60, a % 60);
  return buf;
}

// 64-bit FNV-1a, hex: a register row's identity of content (stable across
// restarts and builds).
std::string ContentHash(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::vector<EntitySetSpec> DefaultEntitySets() {
  return {
      {"counterparties", "Catalog_Контрагенты", {"Ref_Key"}},
      {"products", "Catalog_Номенклатура", {"Ref_Key"}},
      {"prices",
       "InformationRegister_ЦеныНоменклатуры",
       {"Period", "Номенклатура_Key", "ВидЦен_Key"}},
      {"stock", "AccumulationRegister_ТоварыНаСкладах/Balance", {"Номенклатура_Key", "Склад_Key"}},
      {"orders", "Document_ЗаказКлиента", {"Ref_Key"}},
      {"payments", "Document_ПоступлениеБезналичныхДенежныхСредств", {"Ref_Key"}},
  };
}

json QueuedRecord(const json& record, std::string_view set_name, int offset_minutes) {
  json out = record;
  out["_set"] = std::string(set_name);
  for (auto [field, member] : {std::pair{"Date", "_date"}, std::pair{"Period", "_period"}}) {
    std::optional<std::string_view> value = JsonString(record, field);
    if (!value || value->empty() || *value == kEmptyDate) continue;
    out[member] = std::string(*value) + OffsetText(offset_minutes);
  }
  // A counterparty's contact information (tabular part КонтактнаяИнформация,
  // rows {Тип, Представление}): the first phone and e-mail, for the mapping,
  // which cannot pick array elements by a member's value.
  if (const json* rows = JsonArray(record, "КонтактнаяИнформация"); rows != nullptr) {
    for (const json& row : *rows) {
      std::optional<std::string_view> type = JsonString(row, "Тип");
      std::optional<std::string_view> text = JsonString(row, "Представление");
      if (!type || !text || text->empty()) continue;
      const char* member = *type == "Телефон"                 ? "_phone"
                           : *type == "АдресЭлектроннойПочты" ? "_email"
                                                              : nullptr;
      if (member != nullptr && !out.contains(member)) out[member] = std::string(*text);
    }
  }
  return out;
}

std::string KeysetFilter(const std::vector<std::string>& keys,
                         const std::vector<std::string>& after) {
  std::string out;
  for (size_t i = 0; i < keys.size() && i < after.size(); ++i) {
    std::string term;
    for (size_t j = 0; j < i; ++j) {
      term += keys[j] + " eq " + ODataLiteral(keys[j], after[j]) + " and ";
    }
    term += keys[i] + " gt " + ODataLiteral(keys[i], after[i]);
    if (!out.empty()) out += " or ";
    out += i == 0 ? term : "(" + term + ")";
  }
  return out;
}

Result<PullResult> OnecODataAdapter::Pull(const std::optional<std::string>& cursor) {
  // {"next": <set index>, "after": {"<set name>": [key values]}}: our own
  // text, read with checked getters.
  json state = json::object();
  if (cursor && !cursor->empty()) {
    Result<json> parsed = ParseJson(*cursor);
    if (!parsed.ok() || !parsed->is_object()) {
      return Status::InvalidArgument("onec-odata: unreadable cursor");
    }
    state = std::move(parsed).value();
  }
  const size_t n = config_.sets.size();
  const size_t index = static_cast<size_t>(JsonInt(state, "next").value_or(0)) % n;
  const EntitySetSpec& spec = config_.sets[index];
  if (!state["after"].is_object()) state["after"] = json::object();
  std::vector<std::string> after;
  if (const json* saved = JsonArray(state["after"], spec.name); saved != nullptr) {
    for (const json& v : *saved) after.push_back(std::string(AsString(v).value_or("")));
    if (after.size() != spec.keys.size()) after.clear();  // the set's keys changed: sweep anew
  }

  ListQuery query{.set = spec.set, .top = config_.page_size};
  for (const std::string& k : spec.keys) query.orderby += (query.orderby.empty() ? "" : ",") + k;
  query.filter = KeysetFilter(spec.keys, after);
  auto page = client_->List(query);
  PullResult out;
  if (!page.ok()) {
    if (page.error().kind == net::ApiError::Kind::kThrottled) {
      out.not_before = page.error().not_before;
      return out;
    }
    return page.error().ToStatus();
  }

  std::vector<std::string> last;
  for (const json& record : *page) {
    if (!record.is_object()) {
      out.events.push_back(kit::UnreadableRecord(record, "onec-odata: not an object", spec.name));
      continue;
    }
    std::vector<std::string> values;
    std::string joined;
    for (const std::string& k : spec.keys) {
      std::optional<std::string> v = JsonScalarText(record, k);
      if (!v) break;
      joined += (joined.empty() ? "" : "|") + *v;
      values.push_back(std::move(*v));
    }
    if (values.size() != spec.keys.size()) {
      out.events.push_back(kit::UnreadableRecord(
          record, "onec-odata: " + spec.set + ": a record without its key fields", spec.name));
      continue;
    }
    last = values;
    std::optional<std::string_view> version = JsonString(record, "DataVersion");
    InboundEvent e;
    e.idempotency_key = "onec-odata:" + spec.name + ":" + joined + ":" +
                        (version ? std::string(*version) : ContentHash(Dump(record)));
    e.ordering_key = spec.name + ":" + joined;
    e.kind = spec.name;
    e.payload = Dump(QueuedRecord(record, spec.name, config_.offset_minutes));
    out.events.push_back(std::move(e));
  }
  const bool sweep_done = static_cast<int>(page->size()) < config_.page_size;
  if (sweep_done) {
    state["after"].erase(spec.name);
    state["next"] = static_cast<int64_t>((index + 1) % n);
    out.more = index + 1 < n;  // the next set now; after the last, the poll interval
  } else {
    if (last.empty()) {
      // A full page of which no record could be keyed: the sweep cannot
      // move past it.
      return Status::Internal("onec-odata: " + spec.set + ": a page of " +
                              std::to_string(page->size()) + " records without key fields (" +
                              query.orderby + ")");
    }
    state["after"][spec.name] = last;
    out.more = true;
  }
  out.next_cursor = Dump(state);
  return out;
}

}  // namespace crmhub::adapters::onec_odata
