// crmhub match list|link|run: the payment-matching review (docs/matching.md).
//
//   crmhub match list [--json] [--limit N] [--after-id ID]  unmatched incoming payments, with why
//   crmhub match link ID DEAL                                link payment ID to a deal (id or
//   external id) crmhub match run                                         match what is pending now
// each with --data-dir DIR or --config FILE (its [daemon] data_dir, and for
// run its [matching] invoice_patterns). Safe while the daemon runs (SQLite).
//
// Exit codes: 0 ok; 1 a runtime error ("error: ..."), or `link` refused
// (unknown payment or deal, already linked); 2 usage or config error, or no
// crm.db in the data directory.

#include <cstdio>

#include <nlohmann/json.hpp>

#include "base/json_get.h"
#include "config/config.h"
#include "crm/store_schema.h"
#include "daemon/adapter_registry.h"
#include "daemon/cli/commands.h"
#include "daemon/cli/flags.h"
#include "daemon/config_schema.h"
#include "matching/payment_matcher.h"

namespace crmhub::cli {
namespace {

std::string Money(int64_t minor, const std::string& currency) {
  std::string sign = minor < 0 ? "-" : "";
  int64_t a = minor < 0 ? -minor : minor;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s%lld.%02lld %s", sign.c_str(), static_cast<long long>(a / 100),
                static_cast<long long>(a % 100), currency.c_str());
  return buf;
}

}  // namespace

int MatchCommand(const Args& args) {
  std::string data_dir, config_file;
  bool json = false;
  int64_t limit = 100, after_id = 0;
  std::vector<std::string> positional;
  FlagParser flags(
      "crmhub match list|link ID DEAL|run [--json] [--limit N] [--after-id ID] "
      "(--data-dir DIR | --config FILE)",
      "Incoming bank payments and the deals they pay (docs/matching.md). list: the payments "
      "not linked to a deal, with why; link ID DEAL: link payment ID (from list) to a deal (its "
      "id or external id) and add the payment to the deal's paid amount; run: match what is "
      "pending now by payer INN and invoice number.");
  flags.AddBool("--json", &json, "list: print JSON instead of a table");
  flags.AddInt("--limit", &limit, "N", "list: at most N payments (default 100)");
  flags.AddInt("--after-id", &after_id, "ID", "list: payments after this id");
  flags.AddString("--data-dir", &data_dir, "DIR", "the daemon's data directory (crm.db)");
  flags.AddString("--config", &config_file, "FILE", "take [daemon] data_dir from this config");
  flags.AllowPositional(&positional);
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;

  const std::string verb = positional.empty() ? "" : positional[0];
  const size_t want = verb == "link" ? 3 : 1;
  if ((verb != "list" && verb != "link" && verb != "run") || positional.size() != want) {
    std::fprintf(stderr, "error: expected list, link ID DEAL or run\n%s", flags.Help().c_str());
    return 2;
  }
  if (data_dir.empty() == config_file.empty()) {
    std::fprintf(stderr, "error: give exactly one of --data-dir DIR or --config FILE\n%s",
                 flags.Help().c_str());
    return 2;
  }
  std::filesystem::path dir = data_dir;
  std::vector<std::string> patterns = matching::DefaultInvoicePatterns();
  if (!config_file.empty()) {
    auto loaded = config::LoadConfig(config_file, daemon::BuildSchema(daemon::AllAdapterTypes()));
    if (!loaded.ok()) {
      std::fprintf(stderr, "%s\n", loaded.status().message().c_str());
      return 2;
    }
    dir = daemon::ResolveDataDir(*loaded);
    patterns = loaded->Get("matching").GetStringList("invoice_patterns");
  }
  SystemClock clock;
  auto matcher =
      matching::PaymentMatcher::Open(dir / std::string(crm::kCrmDbFileName), patterns, clock);
  if (!matcher.ok()) {
    std::fprintf(stderr, "error: %s\n", matcher.status().message().c_str());
    return matcher.status().code() == StatusCode::kNotFound ||
                   matcher.status().code() == StatusCode::kInvalidArgument
               ? 2
               : 1;
  }

  if (verb == "run") {
    int64_t linked = 0, unmatched = 0;
    while (true) {
      auto s = (*matcher)->MatchPending();
      if (!s.ok()) {
        std::fprintf(stderr, "error: %s\n", s.status().message().c_str());
        return 1;
      }
      linked += s->linked;
      unmatched += s->unmatched;
      if (s->checked < 10'000) break;
    }
    std::printf("linked %lld, unmatched %lld\n", static_cast<long long>(linked),
                static_cast<long long>(unmatched));
    return 0;
  }
  if (verb == "link") {
    std::optional<int64_t> id = ParseDecimalInt(positional[1]);
    if (!id || *id <= 0) {
      std::fprintf(stderr, "error: ID must be a payment id from `crmhub match list`\n");
      return 2;
    }
    auto paid = (*matcher)->Link(*id, positional[2], "manual (crmhub match link)");
    if (!paid.ok()) {
      std::fprintf(stderr, "error: %s\n", paid.status().message().c_str());
      return 1;
    }
    std::printf("payment %lld linked to deal %lld (%s %s): paid %s in %lld payment(s)\n",
                static_cast<long long>(*id), static_cast<long long>(paid->deal_id),
                paid->source.c_str(), paid->external_id.c_str(),
                Money(paid->paid_minor, "").c_str(), static_cast<long long>(paid->payments));
    return 0;
  }
  auto list = (*matcher)->ListUnmatched(after_id, static_cast<int>(limit));
  if (!list.ok()) {
    std::fprintf(stderr, "error: %s\n", list.status().message().c_str());
    return 1;
  }
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : *list) {
      out.push_back(matching::UnmatchedPaymentJson(p));
    }
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("%-8s %-10s %16s  %-12s  %s\n", "ID", "DATE", "AMOUNT", "PAYER INN", "PURPOSE / WHY");
  for (const auto& p : *list) {
    std::printf("%-8lld %-10s %16s  %-12s  %s\n", static_cast<long long>(p.id),
                FormatRfc3339(FromUnixMillis(p.date_ms)).substr(0, 10).c_str(),
                Money(p.amount_minor, p.currency).c_str(), p.payer_inn.c_str(), p.purpose.c_str());
    std::printf("%-8s %-10s %16s  %-12s  -> %s\n", "", "", "", "",
                p.reason.empty() ? "not looked at yet" : p.reason.c_str());
  }
  std::printf("%zu unmatched\n", list->size());
  return 0;
}

}  // namespace crmhub::cli
