#include "adapters/tochka/tochka_sim.h"

#include <fmt/format.h>

#include "adapters/simkit/world.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::tochka {
namespace {

using nlohmann::json;

constexpr const char* kDefaultAccount = "40702810000000000001/044525104";
constexpr const char* kPath = "/uapi/open-banking/v1.0";

net::HttpResponse TochkaError(int status, std::string_view message) {
  json body = {{"code", std::to_string(status)},
               {"id", "sim"},
               {"message", message},
               {"Errors", json::array({{{"errorCode", status == 404 ? "NotFound" : "BadRequest"},
                                        {"message", message},
                                        {"url", "https://enter.tochka.com/doc/v2/redoc"}}})}};
  return net::HttpResponse::Json(status, body.dump());
}

// The spec's dates: YYYY-MM-DD, Moscow (the bank's) calendar.
std::string Day(SystemTime t) {
  return FormatTimestamp(t, TimestampStyle::kRfc3339Seconds, 180).substr(0, 10);
}

bool IsDate(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// "40702810000000000001%2F044525104" → "40702810000000000001/044525104".
std::string PercentDecoded(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      auto hex = [](char c) {
        return c >= '0' && c <= '9'   ? c - '0'
               : c >= 'a' && c <= 'f' ? c - 'a' + 10
               : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                      : -1;
      };
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

}  // namespace

TochkaSimulator::TochkaSimulator(simkit::SimOptions options, Clock& clock)
    : PipelineSimulator(options.io_threads),
      options_(std::move(options)),
      clock_(clock),
      pipeline_(
          [this] {
            simkit::SimPipeline::Options o = CommonOptions(options_, /*salt=*/0x70c4);
            o.dialect.server_header = "tochka-sim";
            o.dialect.auth_headers = {"Authorization"};
            o.dialect.accepted = {{"Bearer " + token(), "tochka"}};
            o.dialect.unauthorized = [](bool) { return TochkaError(401, "Unauthorized"); };
            o.dialect.error = TochkaError;
            // The OpenAPI file states no rate limit; only the "429" fault
            // throttles, answered in the error shape with Retry-After (the
            // pipeline needs an answer for it: without one, a request the
            // fault picked threw and went unanswered).
            o.dialect.throttled = [](const simkit::LimitRefusal& r) {
              net::HttpResponse answer = TochkaError(429, "Too Many Requests");
              answer.headers.Set(
                  "Retry-After",
                  std::to_string(std::max<int64_t>(
                      1, std::chrono::ceil<std::chrono::seconds>(r.retry_after).count())));
              return answer;
            };
            o.routes = {
                {.method = "POST",
                 .path = std::string(kPath) + "/statements",
                 .json_body = true,
                 .handler = [this](const simkit::SimRequest& r) { return Init(r); }},
                // accountId is "<account>/<BIC>": its slash arrives as a path
                // separator (sent as %2F, decoded by the server), or not.
                {.method = "GET",
                 .path = std::string(kPath) + "/accounts/{}/{}/statements/{}",
                 .handler =
                     [this](const simkit::SimRequest& r) {
                       return Get(r.params[0] + "/" + r.params[1], r.params[2]);
                     }},
                {.method = "GET",
                 .path = std::string(kPath) + "/accounts/{}/statements/{}",
                 .handler =
                     [this](const simkit::SimRequest& r) {
                       return Get(PercentDecoded(r.params[0]), PercentDecoded(r.params[1]));
                     }},
            };
            return o;
          }(),
          clock) {
  auto it = options_.account.find("accounts");
  account_ = it != options_.account.end() && !it->second.empty() ? it->second : kDefaultAccount;
  const std::string own = account_.substr(0, account_.find('/'));
  simkit::CreateOrders(options_, clock_, [&](int i, SystemTime at, simkit::SeededRng& rng) {
    const bool repeat = i % 10 == 9 && !transactions_.empty();
    json t;
    int64_t kopecks = repeat ? kopecks_.back() : 10000 + rng.Int(0, 9'999'999);
    if (repeat) {
      t = transactions_.back();  // the same payment again, a real second one
    } else {
      const std::string inn = fmt::format("77{:08}", i % 50);
      t = {{"creditDebitIndicator", "Credit"},
           {"status", "Booked"},
           {"documentNumber", std::to_string(100 + i)},
           {"transactionTypeCode", "Платежное поручение"},
           {"documentProcessDate", Day(at)},
           {"description", fmt::format("Оплата по счету № {} от {}", 5000 + i, Day(at))},
           {"Amount",
            {{"amount", static_cast<double>(kopecks) / 100.0},
             {"amountNat", static_cast<double>(kopecks) / 100.0},
             {"currency", "RUB"}}},
           {"DebtorParty", {{"inn", inn}, {"name", fmt::format("ООО Плательщик {}", i % 50)}}},
           {"DebtorAccount",
            {{"schemeName", "RU.CBR.PAN"},
             {"identification", fmt::format("407028109{:011}", i % 50)}}},
           {"DebtorAgent", {{"schemeName", "RU.CBR.BIK"}, {"identification", "044525225"}}},
           {"CreditorParty", {{"inn", "7700000001"}, {"name", "ООО Получатель"}}},
           {"CreditorAccount", {{"schemeName", "RU.CBR.PAN"}, {"identification", own}}},
           {"CreditorAgent", {{"schemeName", "RU.CBR.BIK"}, {"identification", "044525104"}}}};
    }
    t["transactionId"] = fmt::format("tx-{}", i + 1);
    t["paymentId"] = fmt::format("pay-{}", i + 1);
    days_.push_back(std::string(JsonString(t, "documentProcessDate").value_or("")));
    kopecks_.push_back(kopecks);
    transactions_.push_back(std::move(t));
    happened_at_.push_back(at);
    all_final_at_ = std::max(all_final_at_, at);
  });
}

std::string TochkaSimulator::token() const {
  return options_.credentials.empty() ? "sim-tochka-token" : options_.credentials.front();
}

net::HttpResponse TochkaSimulator::Init(const simkit::SimRequest& request) {
  const json* data = JsonObject(request.body, "Data");
  const json* st = data != nullptr ? JsonObject(*data, "Statement") : nullptr;
  if (st == nullptr) return TochkaError(400, "Data.Statement is required");
  const std::string account(JsonString(*st, "accountId").value_or(""));
  const std::string from(JsonString(*st, "startDateTime").value_or(""));
  const std::string to(JsonString(*st, "endDateTime").value_or(""));
  if (account.empty() || account.size() > 40) return TochkaError(400, "accountId is required");
  if (!IsDate(from) || !IsDate(to)) {
    return TochkaError(400, "startDateTime and endDateTime are dates (YYYY-MM-DD)");
  }
  if (from > to) return TochkaError(400, "startDateTime is after endDateTime");
  if (account != account_) return TochkaError(403, "no access to this account");
  std::lock_guard lock(mu_);
  const std::string id = std::to_string(next_statement_++);
  statements_[id] = {account, from, to, clock_.Now()};
  json answer = {
      {"Data",
       {{"Statement",
         {{"accountId", account},
          {"statementId", id},
          {"status", "Created"},
          {"startDateTime", from},
          {"endDateTime", to},
          {"creationDateTime",
           FormatTimestamp(clock_.Now(), TimestampStyle::kRfc3339Seconds, 180)}}}}},
      {"Links", {{"self", "https://enter.tochka.com/uapi/open-banking/v1.0/statements"}}},
      {"Meta", {{"totalPages", 1}}}};
  return net::HttpResponse::Json(200, answer.dump());
}

net::HttpResponse TochkaSimulator::Get(const std::string& account, const std::string& id) const {
  Statement st;
  {
    std::lock_guard lock(mu_);
    auto it = statements_.find(id);
    if (it == statements_.end() || it->second.account != account) {
      return TochkaError(404, "statement not found");
    }
    st = it->second;
  }
  const SystemTime now = clock_.Now();
  json statement = {
      {"accountId", st.account},
      {"statementId", id},
      {"startDateTime", st.from},
      {"endDateTime", st.to},
      {"creationDateTime", FormatTimestamp(st.asked_at, TimestampStyle::kRfc3339Seconds, 180)}};
  if (now - st.asked_at < std::chrono::seconds(1)) {
    statement["status"] = "Processing";
  } else {
    json list = json::array();
    int64_t total = 0;
    for (size_t i = 0; i < transactions_.size(); ++i) {
      const std::string& day = days_[i];
      if (happened_at_[i] > st.asked_at || day < st.from || day > st.to) continue;
      total += kopecks_[i];
      list.push_back(transactions_[i]);
    }
    statement["status"] = "Ready";
    statement["startDateBalance"] = 0.0;
    statement["endDateBalance"] = static_cast<double>(total) / 100.0;
    statement["Transaction"] = std::move(list);
  }
  json answer = {
      {"Data", {{"Statement", json::array({statement})}}},
      {"Links", {{"self", "https://enter.tochka.com/uapi/open-banking/v1.0/statements"}}},
      {"Meta", {{"totalPages", 1}}}};
  return net::HttpResponse::Json(200, answer.dump());
}

std::string TochkaSimulator::StateJson() const {
  std::lock_guard lock(mu_);
  return json{{"account", account_},
              {"transactions", transactions_.size()},
              {"statements", statements_.size()}}
      .dump();
}

std::map<std::string, std::string> TochkaSimulator::OrderStatuses(bool final_only) const {
  std::map<std::string, std::string> out;
  const SystemTime now = clock_.Now();
  for (size_t i = 0; i < transactions_.size(); ++i) {
    if (final_only || happened_at_[i] <= now) {
      out[fmt::format("tx-{}", i + 1)] = "Booked";
    }
  }
  return out;
}

simkit::AdapterWiring TochkaSimulator::Wiring() const {
  simkit::AdapterWiring w;
  w.type = "tochka";
  w.keys =
      fmt::format("base_url = \"{}/uapi\"\ncustomer_code = \"300123123\"\naccounts = [\"{}\"]\n",
                  base_url(), account_);
  w.lookback_key = "lookback_days";
  w.secrets = {{"token_file", token()}};
  return w;
}

simkit::SimulatorType TochkaSimulatorType() {
  return {.name = "tochka",
          .description = "Tochka Bank's statement API (init, poll until Ready)",
          .account_keys = {"accounts"},
          .url_key = "base_url",
          .create = [](const simkit::SimOptions& o,
                       Clock& clock) -> Result<std::unique_ptr<simkit::Simulator>> {
            return std::unique_ptr<simkit::Simulator>(std::make_unique<TochkaSimulator>(o, clock));
          }};
}

}  // namespace crmhub::adapters::tochka
