#pragma once
// PaymentMatcher: incoming bank payments in the CRM store (crm.db,
// bank_transaction entities) linked to the deals they pay, by the payer's
// INN and an invoice number found in the purpose. docs/matching.md is the
// operator's page.
//
// A transaction is a candidate when it is incoming (direction "in") and
// booked (status "booked", or no status: records from before the field):
// payment orders prepared for the bank ("prepared") are never matched. Its
// invoice numbers come from `purpose` and extra.purpose_lines through the
// configured patterns (invoice_numbers.h). A deal matches when its
// invoice_number is one of them (normalised) and its company's INN, or its
// contact's, is the payer's INN. Exactly one matching deal: the payment is
// linked to it and the deal's paid amount grows by the payment's amount;
// none or several: the payment stays unmatched with the reason, for review
// (`crmhub match list|link`, GET /api/v1/matching/unmatched).
//
// Storage, in crm.db beside the entities (created when missing):
//   payment_links(transaction_id PK → bank_transactions.id, deal_id →
//                 deals.id, amount_minor, how, linked_at)
//   deal_payments(deal_id PK, paid_minor, payments): the deal's paid amount
//   payment_review(transaction_id PK, reason, checked_at): why an unmatched
//                 payment is unmatched (as of the last look)
// A link and the paid amount change in one transaction: they never disagree.
//
// Thread-safety: one matcher per thread, or the caller serialises (the
// MatchingSink holds a mutex). Several processes may use one crm.db (SQLite
// locking; a busy database waits up to 5 s).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/status.h"
#include "crm/sqlite_util.h"
#include "matching/invoice_numbers.h"

namespace crmhub::matching {

struct MatchSummary {
  int64_t checked = 0;
  int64_t linked = 0;
  int64_t unmatched = 0;
};

struct UnmatchedPayment {
  int64_t id = 0;  // bank_transactions.id: what `crmhub match link ID DEAL` takes
  std::string source;
  std::string external_id;
  int64_t amount_minor = 0;
  std::string currency;
  int64_t date_ms = 0;
  std::string payer_name;
  std::string payer_inn;
  std::string purpose;
  std::string reason;  // "" when not looked at yet
};

// The form the review list takes in the admin API (GET
// /api/v1/matching/unmatched) and in `crmhub match list --json`.
nlohmann::json UnmatchedPaymentJson(const UnmatchedPayment& p);

struct DealPaid {
  int64_t deal_id = 0;
  std::string source;
  std::string external_id;
  int64_t paid_minor = 0;
  int64_t payments = 0;
};

class PaymentMatcher {
 public:
  // Opens crm.db (which must exist: the CRM store creates it) and creates
  // the matching tables. `patterns`: [matching] invoice_patterns.
  static Result<std::unique_ptr<PaymentMatcher>> Open(const std::filesystem::path& crm_db,
                                                      const std::vector<std::string>& patterns,
                                                      const Clock& clock);

  // Looks at every candidate not linked yet, links what matches. Bounded:
  // at most `limit` transactions a call, oldest first (call again while
  // `checked == limit`).
  Result<MatchSummary> MatchPending(int64_t limit = 10'000);

  // Whether a payment waits in the review list: what a change to a deal,
  // a company or a contact could now match (MatchPending puts every
  // candidate it could not link there, and a link takes it out).
  Result<bool> HasUnmatched();

  // Candidates without a link, by id after `after_id`.
  Result<std::vector<UnmatchedPayment>> ListUnmatched(int64_t after_id = 0, int limit = 100);

  // Links transaction `transaction_id` to the deal `deal` (its id in the
  // deals table, or its external_id; an external id held by deals of
  // several sources is refused as ambiguous). NotFound for an unknown
  // transaction or deal; FailedPrecondition when the transaction is not an
  // incoming booked payment or is linked already. Returns the deal's paid
  // amount after the link.
  Result<DealPaid> Link(int64_t transaction_id, const std::string& deal, const std::string& how);

  // The paid amount of a deal (id or external id), 0 before any payment.
  Result<DealPaid> Paid(const std::string& deal);

 private:
  PaymentMatcher(std::unique_ptr<crm::sql::Db> db, InvoiceNumbers numbers, const Clock& clock)
      : db_(std::move(db)), numbers_(std::move(numbers)), clock_(clock) {}
  Result<DealPaid> FindDeal(const std::string& deal);
  // Inside a transaction: the link and the deal's paid amount.
  Status InsertLink(int64_t transaction_id, int64_t deal_id, int64_t amount_minor,
                    const std::string& how);

  std::unique_ptr<crm::sql::Db> db_;
  InvoiceNumbers numbers_;
  const Clock& clock_;
};

}  // namespace crmhub::matching
