// Payment matching on a real crm.db: a statement mapped with the shipped
// rules and stored, deals with their companies, then the matcher. The
// acceptance case of issue 20: 100 incoming payments, 80 of them paying
// deals by payer INN + invoice number: 80 linked, 20 listed for review.

#include "matching/payment_matcher.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

#include "adapters/bank_1c/statement_check.h"
#include "crm/sqlite_store.h"
#include "crm/store_schema.h"
#include "mapping/rules/rule_set.h"
#include "matching/matching_sink.h"
#include "tests/adapters/bank_1c/statement_builder.h"
#include "tests/daemon/http_routes_harness.h"
#include "tests/daemon/test_support.h"

namespace crmhub::matching {
namespace {

using testutil::TestPayment;

TEST(InvoiceNumbersTest, FindsTheNumberInUsualPurposes) {
  auto n = InvoiceNumbers::Compile(DefaultInvoicePatterns());
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->Find("Оплата по счету № 123 от 01.03.2024, в т.ч. НДС 20%"),
            std::set<std::string>{"123"});
  EXPECT_EQ(n->Find("Оплата по сч.№0045 за товар"), std::set<std::string>{"45"});
  EXPECT_EQ(n->Find("ОПЛАТА ПО СЧЕТУ N INV-2024/15 БЕЗ НДС"), std::set<std::string>{"INV-2024/15"});
  EXPECT_EQ(n->Find("Payment for invoice #a-77"), std::set<std::string>{"A-77"});
  EXPECT_EQ(n->Find("Счёт 12, счет 13"), (std::set<std::string>{"12", "13"}));
  EXPECT_TRUE(n->Find("Возврат займа по договору 5").empty());
  EXPECT_TRUE(n->Find("").empty());
  EXPECT_FALSE(InvoiceNumbers::Compile({"(unclosed"}).ok());
  EXPECT_FALSE(InvoiceNumbers::Compile({"no group"}).ok());
  auto custom = InvoiceNumbers::Compile({"заказ ([0-9]+)"});
  ASSERT_TRUE(custom.ok());
  EXPECT_EQ(custom->Find("Оплата заказ 981"), std::set<std::string>{"981"});
}

class MatchingTest : public ::testing::Test {
 protected:
  MatchingTest() {
    crm::SqliteStoreOptions o;
    o.path = dir_.path() / "crm.db";
    auto store = crm::SqliteCrmStore::Open(o, clock_);
    EXPECT_TRUE(store.ok());
    store_ = std::move(*store);
    auto rules = mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) +
                                    "/config/mappings/bank-1c-statement.toml");
    EXPECT_TRUE(rules.ok()) << rules.status().ToString();
    rules_ = std::make_unique<mapping::RuleSet>(std::move(*rules));
  }

  // Parses, checks, maps and stores a statement as the daemon would.
  void Import(const std::string& file, crm::CrmSink& sink) {
    auto st = adapters::bank_1c::ReadStatement(file);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    std::vector<crm::SinkEvent> events;
    for (const auto& doc : st->documents) {
      auto entities = rules_->Apply(doc, {"bank", nullptr, 0});
      ASSERT_TRUE(entities.ok()) << entities.status().ToString();
      events.push_back({.source = "bank",
                        .idempotency_key =
                            doc["_id"].get<std::string>() + "/" + doc["_status"].get<std::string>(),
                        .message_id = ++message_id_,
                        .received_at = clock_.Now(),
                        .entities = std::move(*entities),
                        .validated = true});
    }
    for (const auto& outcome : sink.Apply(events)) ASSERT_TRUE(outcome.ok());
  }

  // A deal of the CRM with its company (INN) and invoice number.
  void AddDeal(crm::CrmSink& sink, const std::string& id, const std::string& inn,
               const std::string& invoice) {
    model::Entity company{model::EntityKind::kCompany,
                          "crm",
                          "company-" + id,
                          1,
                          {{"name", "ООО " + id}, {"inn", inn}}};
    model::Entity deal{model::EntityKind::kDeal,
                       "crm",
                       id,
                       1,
                       {{"stage", "invoiced"},
                        {"amount", 100000},
                        {"currency", "RUB"},
                        {"company_external_id", "company-" + id},
                        {"invoice_number", invoice}}};
    std::vector<crm::SinkEvent> events = {{.source = "crm",
                                           .idempotency_key = "deal-" + id,
                                           .message_id = ++message_id_,
                                           .received_at = clock_.Now(),
                                           .entities = {company, deal},
                                           .validated = true}};
    for (const auto& outcome : sink.Apply(events)) ASSERT_TRUE(outcome.ok());
  }

  std::unique_ptr<PaymentMatcher> Matcher() {
    auto m = PaymentMatcher::Open(dir_.path() / "crm.db", DefaultInvoicePatterns(), clock_);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? std::move(*m) : nullptr;
  }

  testutil::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<crm::SqliteCrmStore> store_;
  std::unique_ptr<mapping::RuleSet> rules_;
  int64_t message_id_ = 0;
};

TEST_F(MatchingTest, HundredPaymentsEightyMatchTwentyForReview) {
  std::vector<TestPayment> payments;
  for (int i = 0; i < 100; ++i) {
    TestPayment p;
    p.number = std::to_string(500 + i);
    p.kopecks = 100000 + i;
    p.payer_inn = fmt::format("77{:08}", i);
    p.purpose = fmt::format("Оплата по счету № {} от 01.03.2024, в т.ч. НДС", 9000 + i);
    if (i >= 80 && i < 88) p.purpose = "Оплата за товар, без НДС";           // no invoice number
    if (i >= 88 && i < 94) p.purpose = "Оплата по счету № 123456 от 01.03";  // no such invoice
    if (i >= 94) p.payer_inn = "5000000000";                                 // someone else pays
    payments.push_back(p);
  }
  Import(testutil::BuildStatement(payments), *store_);
  // 80 deals of the payers, each with its invoice; plus a deal of another
  // company with invoice 9095: the same number from another INN must not match.
  for (int i = 0; i < 100; ++i) {
    if (i < 80 || i >= 94)
      AddDeal(*store_, fmt::format("deal-{}", i), fmt::format("77{:08}", i),
              std::to_string(9000 + i));
  }
  auto m = Matcher();
  ASSERT_NE(m, nullptr);
  auto s = m->MatchPending();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->checked, 100);
  EXPECT_EQ(s->linked, 80);
  EXPECT_EQ(s->unmatched, 20);
  auto list = m->ListUnmatched();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 20u);
  EXPECT_EQ((*list)[0].reason, "no invoice number in the purpose");
  EXPECT_EQ((*list)[8].reason, "no deal of INN 7700000088 has invoice 123456");
  EXPECT_EQ((*list)[19].reason, "no deal of INN 5000000000 has invoice 9099");
  auto paid = m->Paid("deal-7");
  ASSERT_TRUE(paid.ok());
  EXPECT_EQ(paid->paid_minor, 100007);
  EXPECT_EQ(paid->payments, 1);

  // Again: nothing new to look at, nothing changes.
  auto again = m->MatchPending();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->checked, 0);

  // A reviewer links one by hand.
  auto linked = m->Link((*list)[0].id, "deal-3", "manual");
  ASSERT_TRUE(linked.ok()) << linked.status().ToString();
  EXPECT_EQ(linked->paid_minor, 100003 + 100080);
  EXPECT_EQ(linked->payments, 2);
  EXPECT_EQ(m->ListUnmatched()->size(), 19u);
  EXPECT_EQ(m->Link((*list)[0].id, "deal-3", "manual").status().code(),
            StatusCode::kFailedPrecondition);  // linked already
  EXPECT_EQ(m->Link(999999, "deal-3", "manual").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(m->Link((*list)[1].id, "no-such-deal", "manual").status().code(),
            StatusCode::kNotFound);
}

TEST_F(MatchingTest, APaymentBeforeItsDealIsLinkedWhenTheDealArrives) {
  auto m = Matcher();
  ASSERT_NE(m, nullptr);
  MatchingSink sink(std::move(store_), std::move(m), nullptr);
  Import(testutil::BuildStatement({{.number = "1", .purpose = "Оплата по счету 42"}}), sink);
  auto review = Matcher();
  ASSERT_EQ(review->ListUnmatched()->size(), 1u);
  EXPECT_EQ((*review->ListUnmatched())[0].reason, "no deal of INN 7707049388 has invoice 42");
  clock_.Advance(std::chrono::seconds(1));
  AddDeal(sink, "deal-42", "7707049388", "42");
  EXPECT_TRUE(review->ListUnmatched()->empty());
  EXPECT_EQ(review->Paid("deal-42")->paid_minor, 100000);
}

// Leads and contacts of a deployment with nothing to match cost no matching
// run (each is a write transaction on crm.db beside the store's); a payment
// waiting for review makes them worth a look again. The counters exist
// before the first run.
TEST_F(MatchingTest, PartiesAreMatchedOnlyWhileAPaymentWaits) {
  MetricsRegistry metrics;
  MatchingSink sink(std::move(store_), Matcher(), &metrics);
  const std::string zero = metrics.RenderPrometheus();
  EXPECT_NE(zero.find("crmhub_matching_runs_total 0"), std::string::npos) << zero;
  EXPECT_NE(zero.find("crmhub_matching_errors_total 0"), std::string::npos) << zero;
  EXPECT_NE(zero.find("crmhub_payments_matched_total 0"), std::string::npos) << zero;
  auto runs = [&] { return metrics.GetCounter("crmhub_matching_runs_total", "").value(); };
  int contacts = 0;
  auto add_contact = [&] {
    const std::string id = "contact-" + std::to_string(++contacts);
    std::vector<crm::SinkEvent> events = {
        {.source = "site",
         .idempotency_key = id,
         .message_id = ++message_id_,
         .received_at = clock_.Now(),
         .entities = {{model::EntityKind::kContact, "site", id, 1, {{"phone", "+79160000000"}}}},
         .validated = true}};
    for (const auto& outcome : sink.Apply(events)) ASSERT_TRUE(outcome.ok());
  };

  add_contact();
  EXPECT_EQ(runs(), 1);  // the first: whether a payment waits is not known yet
  add_contact();
  add_contact();
  EXPECT_EQ(runs(), 1);  // nothing waits: no run

  clock_.Advance(std::chrono::seconds(1));
  Import(testutil::BuildStatement({{.number = "1", .purpose = "Оплата по счету 77"}}), sink);
  EXPECT_EQ(runs(), 2);  // a payment always gets a run; it waits for its deal
  clock_.Advance(std::chrono::seconds(1));
  add_contact();
  EXPECT_EQ(runs(), 3);  // a payment waits: a contact may be its payer

  clock_.Advance(std::chrono::seconds(1));
  AddDeal(sink, "deal-77", "7707049388", "77");
  EXPECT_EQ(runs(), 4);
  EXPECT_EQ(metrics.GetCounter("crmhub_payments_matched_total", "").value(), 1);
  add_contact();
  EXPECT_EQ(runs(), 4);  // linked: nothing waits again
  EXPECT_EQ(metrics.GetCounter("crmhub_matching_errors_total", "").value(), 0);
}

TEST_F(MatchingTest, PaymentOrdersAndTwoCandidateDealsAreNotLinked) {
  AddDeal(*store_, "deal-a", "7707049388", "42");
  AddDeal(*store_, "deal-b", "7707049388", "042");
  Import(testutil::BuildStatement({{.number = "1", .purpose = "Оплата по счету 42"}},
                                  /*balances=*/false),
         *store_);
  auto m = Matcher();
  auto s = m->MatchPending();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->checked, 0);  // a payment order prepared for the bank is not money
  Import(testutil::BuildStatement({{.number = "1", .purpose = "Оплата по счету 42"}},
                                  /*balances=*/true, "04.03.2024"),
         *store_);
  s = m->MatchPending();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->linked, 0);
  auto list = m->ListUnmatched();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].reason, "2 deals of INN 7707049388 have invoice 42");
}

TEST_F(MatchingTest, TheCliListsAndLinks) {
  AddDeal(*store_, "deal-1", "7707049388", "1");
  Import(testutil::BuildStatement({{.number = "1", .purpose = "Оплата по счету 5"}}), *store_);
  auto m = Matcher();
  ASSERT_TRUE(m->MatchPending().ok());
  const std::string bin = testutil::CrmhubBinary();
  auto list = testutil::RunAndCapture({bin, "match", "list", "--data-dir", dir_.path().string()});
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find("no deal of INN 7707049388 has invoice 5"), std::string::npos)
      << list.output;
  EXPECT_NE(list.output.find("1 unmatched"), std::string::npos) << list.output;
  auto id = (*m->ListUnmatched())[0].id;
  auto link = testutil::RunAndCapture(
      {bin, "match", "link", std::to_string(id), "deal-1", "--data-dir", dir_.path().string()});
  EXPECT_EQ(link.exit_code, 0) << link.output;
  EXPECT_NE(link.output.find("paid 1000.00"), std::string::npos) << link.output;
  auto empty =
      testutil::RunAndCapture({bin, "match", "list", "--json", "--data-dir", dir_.path().string()});
  EXPECT_EQ(empty.exit_code, 0);
  EXPECT_EQ(empty.output, "[]\n");
  auto again = testutil::RunAndCapture(
      {bin, "match", "link", std::to_string(id), "deal-1", "--data-dir", dir_.path().string()});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("linked already"), std::string::npos) << again.output;
  EXPECT_EQ(
      testutil::RunAndCapture({bin, "match", "frob", "--data-dir", dir_.path().string()}).exit_code,
      2);
}

TEST_F(MatchingTest, TheAdminApiListsTheUnmatched) {
  Import(testutil::BuildStatement({{.number = "1", .purpose = "Оплата по счету 5"},
                                   {.number = "2", .purpose = "Оплата по счету 6"}}),
         *store_);
  ASSERT_TRUE(Matcher()->MatchPending().ok());
  daemon::testing::Harness h;
  h.options.crm_db = dir_.path() / "crm.db";
  h.Start(/*serve=*/true);
  const std::vector<std::pair<std::string, std::string>> auth = {
      {"Authorization", "Bearer admin-token-123"}};
  auto page = h.Http("GET", "/api/v1/matching/unmatched?limit=1", "", auth);
  ASSERT_EQ(page.status, 200) << page.body;
  auto body = nlohmann::json::parse(page.body);
  ASSERT_EQ(body["unmatched"].size(), 1u);
  EXPECT_EQ(body["unmatched"][0]["reason"], "no deal of INN 7707049388 has invoice 5");
  EXPECT_EQ(body["unmatched"][0]["amount_minor"], 100000);
  const auto next = body["next_after_id"].get<int64_t>();
  auto rest =
      h.Http("GET", "/api/v1/matching/unmatched?after_id=" + std::to_string(next), "", auth);
  ASSERT_EQ(rest.status, 200);
  EXPECT_EQ(nlohmann::json::parse(rest.body)["unmatched"][0]["purpose"], "Оплата по счету 6");
  EXPECT_EQ(h.Http("GET", "/api/v1/matching/unmatched").status, 401);
  EXPECT_EQ(h.Http("POST", "/api/v1/matching/unmatched", "", auth).status, 405);
  EXPECT_EQ(h.Http("GET", "/api/v1/matching/unmatched?limit=0", "", auth).status, 400);
}

}  // namespace
}  // namespace crmhub::matching
