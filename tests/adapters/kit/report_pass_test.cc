// kit::ReportPass and QueueReportRows: a report's daily pass, its position
// kept across passes, its cursor form and the rows as events.

#include "adapters/kit/report_pass.h"

#include <gtest/gtest.h>

#include "adapters/kit/cursor_pass.h"

namespace crmhub::adapters::kit {
namespace {

using nlohmann::json;

constexpr int64_t kDay = 24 * 3600 * 1000;

TEST(ReportPass, OnePassPerIntervalAndThePositionKeptAcrossPasses) {
  ReportPass pass;
  ASSERT_TRUE(pass.Due(1000));  // never read: due at once
  EXPECT_TRUE(pass.After("2026-12-01T10:00:00", /*more=*/true, 1000, kDay));
  EXPECT_TRUE(pass.Due(1000));  // in progress
  EXPECT_FALSE(pass.After("2026-12-02T08:00:00", /*more=*/false, 2000, kDay));
  EXPECT_EQ(pass.position, "2026-12-02T08:00:00");
  EXPECT_FALSE(pass.Due(2000 + kDay - 1));  // a day after the pass ended
  ASSERT_TRUE(pass.Due(2000 + kDay));
  // A page with nothing new keeps the position.
  EXPECT_FALSE(pass.After("", false, 3000 + kDay, kDay));
  EXPECT_EQ(pass.position, "2026-12-02T08:00:00");
  EXPECT_FALSE(pass.Due(3000 + kDay));
}

TEST(ReportPass, CursorFormRoundTripsThroughReadCursorPass) {
  ReportPass pass;
  ASSERT_TRUE(pass.Due(5));
  pass.After("2026-11", true, 5, kDay);
  const json cursor = {{"reports", pass.ToObject()}};
  ReportPass back;
  ASSERT_TRUE(ReadCursorPass(cursor, "reports", back));
  EXPECT_EQ(back.position, "2026-11");
  EXPECT_TRUE(back.schedule.in_pass);
  // Absent: not started; garbage: refused.
  ReportPass fresh;
  EXPECT_TRUE(ReadCursorPass(json::object(), "reports", fresh));
  EXPECT_EQ(fresh.position, "");
  EXPECT_FALSE(ReportPass::FromObject(json(7)).has_value());
  EXPECT_FALSE(ReadCursorPass(json{{"reports", {{"next_ms", -1}}}}, "reports", fresh));
}

TEST(QueueReportRows, RowsBecomeReportEventsAndBadRowsDeadLetters) {
  std::vector<ReportRow> rows;
  rows.push_back({.row_id = "S1",
                  .version = "2026-12-01T10:00:00",
                  .period = "2026-12-01",
                  .ordering_key = "77",
                  .type = "sale",
                  .raw = {{"saleID", "S1"}}});
  rows.push_back({.row_id = "", .period = "2026-12-01", .raw = {{"x", 1}}});
  rows.push_back({.row_id = "S3",
                  .period = "2026-12-01",
                  .problem = "forPay is not a number",
                  .raw = {{"saleID", "S3"}}});
  rows.push_back({.row_id = "S4", .period = "2026-12", .raw = {{"saleID", "S4"}}});
  std::vector<InboundEvent> out;
  QueueReportRows(rows, "wildberries", "wb.sales", "/api/v1/supplier/sales", out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].kind, "report");
  EXPECT_EQ(out[0].idempotency_key, "report:wb.sales:S1:2026-12-01T10:00:00");
  EXPECT_EQ(out[0].ordering_key, "77");
  const json p = json::parse(out[0].payload);
  EXPECT_EQ(p["reportName"], "wb.sales");
  EXPECT_EQ(p["reportPeriod"], "2026-12-01");
  EXPECT_EQ(p["reportRowId"], "S1");
  EXPECT_EQ(p["saleID"], "S1");
  EXPECT_EQ(p["reportRowType"], "sale");
  EXPECT_FALSE(json::parse(out[3].payload).contains("reportRowType"));
  for (size_t i : {1u, 2u}) {
    EXPECT_EQ(out[i].kind, "report");
    const json dead = json::parse(out[i].payload);
    ASSERT_TRUE(dead.contains("error")) << out[i].payload;
    EXPECT_EQ(dead["unreadable"], rows[i].raw);
  }
  EXPECT_NE(json::parse(out[1].payload)["error"].get<std::string>().find("row 1: no row id"),
            std::string::npos);
  EXPECT_NE(json::parse(out[2].payload)["error"].get<std::string>().find(
                "wildberries: /api/v1/supplier/sales: row 2: forPay is not a number"),
            std::string::npos);
  EXPECT_EQ(out[3].idempotency_key, "report:wb.sales:S4");  // no version: the id alone
  EXPECT_EQ(out[3].ordering_key, "S4");
}

}  // namespace
}  // namespace crmhub::adapters::kit
