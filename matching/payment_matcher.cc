#include "matching/payment_matcher.h"

#include <nlohmann/json.hpp>

#include "base/json_get.h"

namespace crmhub::matching {
namespace {

using nlohmann::json;

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS payment_links (
  transaction_id INTEGER PRIMARY KEY,
  deal_id INTEGER NOT NULL,
  amount_minor INTEGER NOT NULL,
  how TEXT NOT NULL,
  linked_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS payment_links_deal ON payment_links (deal_id);
CREATE TABLE IF NOT EXISTS deal_payments (
  deal_id INTEGER PRIMARY KEY,
  paid_minor INTEGER NOT NULL,
  payments INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS payment_review (
  transaction_id INTEGER PRIMARY KEY,
  reason TEXT NOT NULL,
  checked_at INTEGER NOT NULL,
  seen_watermark INTEGER NOT NULL
);
)sql";

// Incoming booked payments (prepared payment orders never) without a link.
constexpr std::string_view kCandidates =
    "t.direction = 'in' AND coalesce(json_extract(t.fields, '$.status'), 'booked') = 'booked' "
    "AND NOT EXISTS (SELECT 1 FROM payment_links l WHERE l.transaction_id = t.id)";

std::string Text(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get_ref<const std::string&>() : std::string();
}

// The purpose and its extra lines, one text.
std::string PurposeOf(const json& fields) {
  std::string text = Text(fields, "purpose");
  auto extra = fields.find("extra");
  if (extra != fields.end() && extra->is_object()) {
    auto lines = extra->find("purpose_lines");
    if (lines != extra->end() && lines->is_object()) {
      for (const auto& [k, v] : lines->items()) {
        if (v.is_string()) text += "\n" + v.get_ref<const std::string&>();
      }
    }
  }
  return text;
}

bool AllDigits(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

class Transaction {
 public:
  explicit Transaction(crm::sql::Db& db) : db_(db) {}
  Status Begin() {
    Status s = db_.Exec("BEGIN IMMEDIATE");
    open_ = s.ok();
    return s;
  }
  Status Commit() {
    open_ = false;
    return db_.Exec("COMMIT");
  }
  ~Transaction() {
    if (open_) (void)db_.Exec("ROLLBACK");
  }

 private:
  crm::sql::Db& db_;
  bool open_ = false;
};

}  // namespace

Result<std::unique_ptr<PaymentMatcher>> PaymentMatcher::Open(
    const std::filesystem::path& crm_db, const std::vector<std::string>& patterns,
    const Clock& clock) {
  if (!std::filesystem::exists(crm_db)) {
    return Status::NotFound("no CRM store at " + crm_db.string());
  }
  Result<InvoiceNumbers> numbers = InvoiceNumbers::Compile(patterns);
  if (!numbers.ok()) return numbers.status();
  auto db = crm::sql::Db::Open(crm_db.string(), /*read_only=*/false);
  if (!db.ok()) return db.status();
  if (Status s = (*db)->Exec(kSchema); !s.ok()) return s;
  return std::unique_ptr<PaymentMatcher>(
      new PaymentMatcher(std::move(*db), std::move(*numbers), clock));
}

Status PaymentMatcher::InsertLink(int64_t transaction_id, int64_t deal_id, int64_t amount_minor,
                                  const std::string& how) {
  auto link = db_->Prepare(
      "INSERT INTO payment_links (transaction_id, deal_id, amount_minor, how, linked_at) "
      "VALUES (?, ?, ?, ?, ?)");
  if (!link.ok()) return link.status();
  link->Bind(1, transaction_id)
      .Bind(2, deal_id)
      .Bind(3, amount_minor)
      .Bind(4, std::string_view(how));
  link->Bind(5, ToUnixMillis(clock_.Now()));
  if (Status s = link->Run(); !s.ok()) return s;
  auto paid = db_->Prepare(
      "INSERT INTO deal_payments (deal_id, paid_minor, payments) VALUES (?, ?, 1) "
      "ON CONFLICT (deal_id) DO UPDATE SET paid_minor = paid_minor + excluded.paid_minor, "
      "payments = payments + 1");
  if (!paid.ok()) return paid.status();
  paid->Bind(1, deal_id).Bind(2, amount_minor);
  if (Status s = paid->Run(); !s.ok()) return s;
  auto review = db_->Prepare("DELETE FROM payment_review WHERE transaction_id = ?");
  if (!review.ok()) return review.status();
  review->Bind(1, transaction_id);
  return review->Run();
}

Result<MatchSummary> PaymentMatcher::MatchPending(int64_t limit) {
  Transaction tx(*db_);
  if (Status s = tx.Begin(); !s.ok()) return s;
  // What the deals, companies and contacts look like now: an unmatched
  // payment is looked at again only after one of them changed.
  auto mark = db_->Prepare(
      "SELECT max(coalesce((SELECT max(updated_at) FROM deals), 0), "
      "coalesce((SELECT max(updated_at) FROM companies), 0), "
      "coalesce((SELECT max(updated_at) FROM contacts), 0))");
  if (!mark.ok()) return mark.status();
  if (auto row = mark->Step(); !row.ok()) return row.status();
  const int64_t watermark = mark->Int(0);
  auto candidates = db_->Prepare(
      std::string("SELECT t.id, t.fields, coalesce(t.amount_minor, 0) FROM bank_transactions t "
                  "LEFT JOIN payment_review r ON r.transaction_id = t.id WHERE ") +
      std::string(kCandidates) +
      " AND (r.transaction_id IS NULL OR r.seen_watermark < ?) ORDER BY t.id LIMIT ?");
  if (!candidates.ok()) return candidates.status();
  candidates->Bind(1, watermark).Bind(2, limit);
  struct Candidate {
    int64_t id;
    std::string fields;
    int64_t amount;
  };
  std::vector<Candidate> list;
  while (true) {
    auto row = candidates->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    list.push_back({candidates->Int(0), candidates->Text(1), candidates->Int(2)});
  }
  auto deals = db_->Prepare(
      "SELECT d.id, d.fields FROM deals d JOIN companies c ON c.source = d.source AND "
      "c.external_id = json_extract(d.fields, '$.company_external_id') WHERE c.inn = ?1 "
      "UNION SELECT d.id, d.fields FROM deals d JOIN contacts p ON p.source = d.source AND "
      "p.external_id = json_extract(d.fields, '$.contact_external_id') "
      "WHERE json_extract(p.fields, '$.inn') = ?1");
  if (!deals.ok()) return deals.status();
  auto review = db_->Prepare(
      "INSERT INTO payment_review (transaction_id, reason, checked_at, seen_watermark) "
      "VALUES (?, ?, ?, ?) ON CONFLICT (transaction_id) DO UPDATE SET reason = excluded.reason, "
      "checked_at = excluded.checked_at, seen_watermark = excluded.seen_watermark");
  if (!review.ok()) return review.status();

  MatchSummary summary;
  for (const Candidate& c : list) {
    ++summary.checked;
    json fields = json::parse(c.fields, nullptr, /*allow_exceptions=*/false);
    if (!fields.is_object()) fields = json::object();
    const std::string inn = Text(fields, "payer_inn");
    const std::set<std::string> numbers = numbers_.Find(PurposeOf(fields));
    std::string reason;
    std::vector<int64_t> matched;
    if (inn.empty()) {
      reason = "no payer INN";
    } else if (numbers.empty()) {
      reason = "no invoice number in the purpose";
    } else {
      deals->Reset();
      deals->Bind(1, std::string_view(inn));
      while (true) {
        auto row = deals->Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        json deal = json::parse(deals->Text(1), nullptr, false);
        std::string invoice = deal.is_object() ? Text(deal, "invoice_number") : std::string();
        if (!invoice.empty() && numbers.count(InvoiceNumbers::Normalize(invoice)) > 0) {
          matched.push_back(deals->Int(0));
        }
      }
      std::string list_text;
      for (const std::string& n : numbers) list_text += (list_text.empty() ? "" : ", ") + n;
      if (matched.empty()) {
        reason = "no deal of INN " + inn + " has invoice " + list_text;
      } else if (matched.size() > 1) {
        reason =
            std::to_string(matched.size()) + " deals of INN " + inn + " have invoice " + list_text;
      } else {
        std::string how = "INN " + inn + " + invoice " + list_text;
        if (Status s = InsertLink(c.id, matched[0], c.amount, how); !s.ok()) return s;
        ++summary.linked;
        continue;
      }
    }
    ++summary.unmatched;
    review->Reset();
    review->Bind(1, c.id)
        .Bind(2, std::string_view(reason))
        .Bind(3, ToUnixMillis(clock_.Now()))
        .Bind(4, watermark);
    if (Status s = review->Run(); !s.ok()) return s;
  }
  if (Status s = tx.Commit(); !s.ok()) return s;
  return summary;
}

Result<bool> PaymentMatcher::HasUnmatched() {
  auto q = db_->Prepare("SELECT EXISTS (SELECT 1 FROM payment_review)");
  if (!q.ok()) return q.status();
  auto row = q->Step();
  if (!row.ok()) return row.status();
  return *row && q->Int(0) != 0;
}

Result<std::vector<UnmatchedPayment>> PaymentMatcher::ListUnmatched(int64_t after_id, int limit) {
  auto q =
      db_->Prepare(std::string("SELECT t.id, t.source, t.external_id, coalesce(t.amount_minor, 0), "
                               "coalesce(t.currency, ''), coalesce(t.date_ms, 0), t.fields, "
                               "coalesce(r.reason, '') FROM bank_transactions t "
                               "LEFT JOIN payment_review r ON r.transaction_id = t.id WHERE ") +
                   std::string(kCandidates) + " AND t.id > ? ORDER BY t.id LIMIT ?");
  if (!q.ok()) return q.status();
  q->Bind(1, after_id).Bind(2, static_cast<int64_t>(limit));
  std::vector<UnmatchedPayment> out;
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    UnmatchedPayment p;
    p.id = q->Int(0);
    p.source = q->Text(1);
    p.external_id = q->Text(2);
    p.amount_minor = q->Int(3);
    p.currency = q->Text(4);
    p.date_ms = q->Int(5);
    json fields = json::parse(q->Text(6), nullptr, false);
    if (fields.is_object()) {
      p.payer_name = Text(fields, "payer_name");
      p.payer_inn = Text(fields, "payer_inn");
      p.purpose = Text(fields, "purpose");
    }
    p.reason = q->Text(7);
    out.push_back(std::move(p));
  }
  return out;
}

Result<DealPaid> PaymentMatcher::FindDeal(const std::string& deal) {
  auto q = db_->Prepare(
      "SELECT d.id, d.source, d.external_id, coalesce(p.paid_minor, 0), coalesce(p.payments, 0) "
      "FROM deals d LEFT JOIN deal_payments p ON p.deal_id = d.id "
      "WHERE d.external_id = ?1 OR (?2 AND d.id = ?3) LIMIT 2");
  if (!q.ok()) return q.status();
  const bool by_id = AllDigits(deal);
  q->Bind(1, std::string_view(deal)).Bind(2, int64_t{by_id ? 1 : 0});
  q->Bind(3, by_id ? ParseDecimalInt(deal).value_or(0) : int64_t{0});
  std::vector<DealPaid> found;
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    found.push_back({q->Int(0), q->Text(1), q->Text(2), q->Int(3), q->Int(4)});
  }
  if (found.empty()) return Status::NotFound("no deal \"" + deal + "\"");
  if (found.size() > 1) {
    return Status::InvalidArgument("\"" + deal +
                                   "\" names more than one deal: give the deal's id instead");
  }
  return found[0];
}

Result<DealPaid> PaymentMatcher::Paid(const std::string& deal) { return FindDeal(deal); }

Result<DealPaid> PaymentMatcher::Link(int64_t transaction_id, const std::string& deal,
                                      const std::string& how) {
  Transaction tx(*db_);
  if (Status s = tx.Begin(); !s.ok()) return s;
  auto t = db_->Prepare(
      "SELECT t.direction, coalesce(json_extract(t.fields, '$.status'), 'booked'), "
      "coalesce(t.amount_minor, 0), "
      "EXISTS (SELECT 1 FROM payment_links l WHERE l.transaction_id = t.id) "
      "FROM bank_transactions t WHERE t.id = ?");
  if (!t.ok()) return t.status();
  t->Bind(1, transaction_id);
  auto row = t->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::NotFound("no bank transaction " + std::to_string(transaction_id));
  if (t->Text(0) != "in" || t->Text(1) != "booked") {
    return Status::FailedPrecondition("bank transaction " + std::to_string(transaction_id) +
                                      " is not an incoming booked payment");
  }
  if (t->Int(3) != 0) {
    return Status::FailedPrecondition("bank transaction " + std::to_string(transaction_id) +
                                      " is linked already");
  }
  const int64_t amount = t->Int(2);
  Result<DealPaid> found = FindDeal(deal);
  if (!found.ok()) return found.status();
  if (Status s = InsertLink(transaction_id, found->deal_id, amount, how); !s.ok()) return s;
  if (Status s = tx.Commit(); !s.ok()) return s;
  found->paid_minor += amount;
  found->payments += 1;
  return found;
}

json UnmatchedPaymentJson(const UnmatchedPayment& p) {
  return {{"id", p.id},
          {"source", p.source},
          {"external_id", p.external_id},
          {"amount_minor", p.amount_minor},
          {"currency", p.currency},
          {"date", FormatRfc3339(FromUnixMillis(p.date_ms))},
          {"payer_name", p.payer_name},
          {"payer_inn", p.payer_inn},
          {"purpose", p.purpose},
          {"reason", p.reason}};
}

}  // namespace crmhub::matching
