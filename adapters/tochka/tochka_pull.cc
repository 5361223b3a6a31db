// The tochka adapter's statement pull (tochka_adapter.h, "Statements").

#include <nlohmann/json.hpp>

#include "adapters/kit/bank_payment_identity.h"
#include "adapters/tochka/tochka_adapter.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::tochka {
namespace {

using nlohmann::json;

constexpr int kMoscowMinutes = 180;
// How long to wait before looking at a statement that is not ready yet.
constexpr auto kStatementWait = std::chrono::seconds(1);

std::string Day(SystemTime t) {
  return FormatTimestamp(t, TimestampStyle::kRfc3339Seconds, kMoscowMinutes).substr(0, 10);
}

std::string Str(const json& obj, const char* key) {
  return std::string(JsonString(obj, key).value_or(""));
}

std::string Sub(const json& obj, const char* object, const char* key) {
  const json* o = JsonObject(obj, object);
  return o == nullptr ? std::string() : Str(*o, key);
}

// A JSON number as Tochka wrote it ("40.0" for 40.0), for kopecks without
// float arithmetic.
std::optional<int64_t> Kopecks(const json* amount) {
  if (amount == nullptr) return std::nullopt;
  if (amount->is_string()) return kit::ParseRoubles(amount->get_ref<const std::string&>());
  if (!amount->is_number()) return std::nullopt;
  return kit::ParseRoubles(amount->dump());
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

Result<PullResult> TochkaAdapter::Pull(const std::optional<std::string>& cursor) {
  // {"next": <account index>, "accounts": {"<accountId>": {"from": day,
  //  "statement": id, "to": day}}}: our own text, read with checked getters.
  json state = json::object();
  if (cursor && !cursor->empty()) {
    Result<json> parsed = ParseJson(*cursor);
    if (!parsed.ok() || !parsed->is_object()) {
      return Status::InvalidArgument("tochka: unreadable cursor");
    }
    state = std::move(parsed).value();
  }
  const size_t n = config_.accounts.size();
  const size_t index = static_cast<size_t>(JsonInt(state, "next").value_or(0)) % n;
  const std::string& account = config_.accounts[index];
  if (!state["accounts"].is_object()) state["accounts"] = json::object();
  json& a = state["accounts"][account];
  if (!a.is_object()) a = json::object();
  const SystemTime now = clock_.Now();
  const std::string today = Day(now);
  PullResult out;
  auto fail = [&](const net::ApiError& e) -> Result<PullResult> {
    if (e.kind == net::ApiError::Kind::kThrottled) {
      out.not_before = e.not_before;
      return out;
    }
    return e.ToStatus();
  };

  const std::string pending = Str(a, "statement");
  if (pending.empty()) {
    std::string from = Str(a, "from");
    if (from.empty()) from = Day(now - std::chrono::hours(24) * config_.lookback_days);
    auto init = client_->InitStatement(account, from, today);
    if (!init.ok()) return fail(init.error());
    a["statement"] = init->statement_id;
    a["from"] = from;
    a["to"] = today;
    out.next_cursor = Dump(state);
    out.not_before = now + kStatementWait;  // the bank builds it meanwhile
    return out;
  }
  auto got = client_->GetStatement(account, pending);
  if (!got.ok()) {
    if (got.error().kind == net::ApiError::Kind::kNotFound) {
      a.erase("statement");  // kept 24 h by Tochka, then gone: ask again
      out.next_cursor = Dump(state);
      return out;
    }
    return fail(got.error());
  }
  if (got->status == "Created" || got->status == "Processing") {
    out.not_before = now + kStatementWait;
    return out;
  }
  a.erase("statement");
  state["next"] = static_cast<int64_t>((index + 1) % n);
  if (got->status != "Ready") {  // Error: ask again next time
    out.next_cursor = Dump(state);
    return Status::Unavailable("tochka: statement " + pending + " of " + account + " ended in " +
                               got->status + " (asked again on the next pull)");
  }
  kit::OccurrenceCounter counter;
  const std::string own = account.substr(0, account.find('/'));
  if (const json* list = JsonArray(got->statement, "Transaction"); list != nullptr) {
    for (const json& t : *list) {
      if (!t.is_object()) continue;
      json record = t;
      const std::string status = Str(t, "status");
      const std::string key_id =
          !Str(t, "paymentId").empty() ? Str(t, "paymentId") : Str(t, "transactionId");
      const json* amount = nullptr;
      if (const json* a_obj = JsonObject(t, "Amount"); a_obj != nullptr) {
        if (auto it = a_obj->find("amount"); it != a_obj->end()) amount = &*it;
      }
      const std::optional<int64_t> kopecks = Kopecks(amount);
      kit::BankPaymentFacts facts;
      facts.date = Str(t, "documentProcessDate").substr(0, 10);
      facts.number = Str(t, "documentNumber");
      facts.amount_minor = kopecks.value_or(0);
      facts.payer_inn = Sub(t, "DebtorParty", "inn");
      facts.payer_account = Sub(t, "DebtorAccount", "identification");
      facts.payee_account = Sub(t, "CreditorAccount", "identification");
      const std::string identity = kit::BankPaymentIdentity(facts);
      const int occurrence = counter.Next(identity);
      record["_source"] = "statement";
      record["_account"] = own;
      record["_direction"] = Str(t, "creditDebitIndicator") == "Credit" ? "in" : "out";
      record["_status"] = status == "Booked" ? "booked" : "pending";
      record["_identity"] = identity;
      record["_occurrence"] = occurrence;
      record["_id"] = identity + "#" + std::to_string(occurrence);
      InboundEvent e;
      e.idempotency_key =
          "tochka:tx:" + (key_id.empty() ? record["_id"].get_ref<const std::string&>() : key_id) +
          ":" + status;
      e.ordering_key = identity;
      e.kind = "bank_transaction";
      e.headers = {{"tochka_statement", pending}};
      e.payload = Dump(record);
      out.events.push_back(std::move(e));
    }
  }
  a["from"] = Str(a, "to");  // today again next time: it is not over
  a.erase("to");
  out.next_cursor = Dump(state);
  out.more = index + 1 < n;  // the next account now; after the last, the poll interval
  return out;
}

}  // namespace crmhub::adapters::tochka
