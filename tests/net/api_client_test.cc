// net/api_client.h and the rate-limit family's second shape (SlidingWindow,
// weights, Charge): the classification every adapter shares, on a
// ManualClock and a Transport function (no sockets, no sleeping).

#include "net/api_client.h"

#include <gtest/gtest.h>

#include <map>

#include "base/json_get.h"
#include "net/rate_limiter.h"

namespace crmhub::net {
namespace {

using namespace std::chrono_literals;

OutboundResponse Answer(int status, std::string body,
                        std::vector<std::pair<std::string, std::string>> headers = {}) {
  OutboundResponse r;
  r.status = status;
  r.body = std::move(body);
  for (auto& [k, v] : headers) r.headers.Set(k, v);
  return r;
}

// A Transport that answers from a queue of results and records requests.
struct FakeTransport {
  std::vector<OutboundResult> answers;
  std::vector<std::pair<std::string, OutboundRequest>> sent;  // group, request
  Transport fn() {
    return [this](std::string_view group, OutboundRequest r) -> OutboundResult {
      sent.emplace_back(std::string(group), std::move(r));
      OutboundResult next = answers.empty() ? OutboundResult(Answer(200, "{}")) : answers.front();
      if (!answers.empty()) answers.erase(answers.begin());
      return next;
    };
  }
};

ApiClientOptions Options(ApiDialect dialect = {}) {
  ApiClientOptions o;
  if (dialect.system.empty()) dialect.system = "sys";
  o.dialect = std::move(dialect);
  o.headers.Set("Api-Key", "k");
  return o;
}

TEST(SlidingWindowTest, NeverMoreThanTheLimitInAnyWindow) {
  ManualClock clock;
  SlidingWindow window(clock, 80, 1min);
  for (int i = 0; i < 80; ++i) ASSERT_FALSE(window.TryTake().has_value()) << i;
  auto wait = window.TryTake();
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, 1min);
  clock.Advance(59s);
  EXPECT_TRUE(window.TryTake().has_value());
  clock.Advance(1s);
  EXPECT_FALSE(window.TryTake().has_value());  // the first 80 left the window
  EXPECT_EQ(window.Available(), 79);
}

TEST(SlidingWindowTest, WeightsCountItemsAndHeavyRequestsNeverFit) {
  ManualClock clock;
  SlidingWindow skus(clock, 100'000, 1min);
  EXPECT_FALSE(skus.TryTake(60'000).has_value());
  clock.Advance(10s);
  EXPECT_FALSE(skus.TryTake(30'000).has_value());
  EXPECT_EQ(skus.Available(), 10'000);
  // 20,000 more fit only once the first 60,000 leave, 50 s from now.
  EXPECT_EQ(skus.TryTake(20'000), 50s);
  EXPECT_EQ(skus.Peek(10'000), 0s);
  // More than the limit can never fit: the caller has to split.
  EXPECT_EQ(skus.TryTake(100'001), 1min);
  clock.Advance(50s);
  EXPECT_FALSE(skus.TryTake(20'000).has_value());
}

TEST(SlidingWindowTest, ChargeAndPause) {
  ManualClock clock;
  SlidingWindow w(clock, 10, 1s);
  w.Charge(12);  // billed after the fact: over the limit
  EXPECT_TRUE(w.TryTake().has_value());
  clock.Advance(1s);
  EXPECT_FALSE(w.TryTake().has_value());
  w.PauseUntil(clock.SteadyNow() + 5s);
  EXPECT_EQ(w.TryTake(), 5s);
}

TEST(TokenBucketTest, WeightsPeekAndChargeBelowZero) {
  ManualClock clock;
  TokenBucket wb(clock, RateLimit::Every(200ms, 20));  // Wildberries: 200 ms, burst 20
  EXPECT_EQ(wb.Available(), 20);
  EXPECT_FALSE(wb.TryTake(20).has_value());
  EXPECT_EQ(wb.Peek(2), 400ms);
  clock.Advance(200ms);
  EXPECT_FALSE(wb.TryTake().has_value());
  wb.Charge(9);                     // a 409 counts as 10: 9 more than the one taken
  EXPECT_EQ(wb.TryTake(), 2000ms);  // the debt of 9 and the next token
  clock.Advance(2000ms);
  EXPECT_FALSE(wb.TryTake().has_value());
  EXPECT_EQ(wb.UntilFull(), 4s);
}

TEST(ApiClientTest, TwoHundredsParseAndEveryOtherAnswerIsClassifiedOnce) {
  ManualClock clock;
  FakeTransport t;
  ApiClient client(Options(), t.fn(), clock);
  struct Case {
    OutboundResult answer;
    std::optional<ApiError::Kind> kind;  // nullopt: ok
    bool retry;
  };
  const std::vector<Case> cases = {
      {Answer(200, R"({"a":1})"), std::nullopt, false},
      {Answer(204, ""), std::nullopt, false},
      {Answer(200, "{\"a\":"), ApiError::Kind::kTransient, true},
      {Answer(200, std::string(100, '[') + std::string(100, ']')), ApiError::Kind::kTransient,
       true},
      {Answer(429, "{}"), ApiError::Kind::kThrottled, true},
      {Answer(408, ""), ApiError::Kind::kTransient, true},
      {Answer(500, "oops"), ApiError::Kind::kTransient, true},
      {Answer(503, ""), ApiError::Kind::kTransient, true},
      {Answer(401, ""), ApiError::Kind::kAuth, true},
      {Answer(403, ""), ApiError::Kind::kAuth, true},
      {Answer(404, ""), ApiError::Kind::kNotFound, false},
      {Answer(400, R"({"message":"bad offer"})"), ApiError::Kind::kRejected, false},
      {Answer(302, ""), ApiError::Kind::kRejected, false},
      {Status::Unavailable("connection reset"), ApiError::Kind::kTransient, true},
      {Status::DeadlineExceeded("timeout"), ApiError::Kind::kTransient, true},
      {Status::ResourceExhausted("answer over 64 MiB"), ApiError::Kind::kRejected, false},
  };
  for (const Case& c : cases) {
    t.answers = {c.answer};
    ApiResult<ApiAnswer> r =
        client.Call({.method = "POST", .url = "https://h/v1/x?q=1", .body = "{}"});
    const std::string what =
        c.answer.ok() ? std::to_string(c.answer->status) : c.answer.status().ToString();
    if (!c.kind) {
      EXPECT_TRUE(r.ok()) << what;
      continue;
    }
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().kind, *c.kind) << what;
    EXPECT_EQ(r.error().ToOutcome().kind == DeliveryOutcome::Kind::kRetry, c.retry) << what;
    // Only a throttle is a retry the queue does not count as an attempt.
    EXPECT_EQ(r.error().ToOutcome().throttled, *c.kind == ApiError::Kind::kThrottled) << what;
    EXPECT_NE(r.error().message.find("sys: POST /v1/x"), std::string::npos) << r.error().message;
  }
  t.answers = {Answer(400, R"({"message":"bad offer"})")};
  auto rejected = client.Call({.url = "https://h/a"});
  EXPECT_EQ(rejected.error().message, "sys: GET /a: HTTP 400: bad offer");
  EXPECT_EQ(rejected.error().ToStatus().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(rejected.error().body, R"({"message":"bad offer"})");
  // The headers every request carries, and the JSON content type of a body.
  ASSERT_FALSE(t.sent.empty());
  EXPECT_EQ(t.sent[0].second.headers.Get("Api-Key"), "k");
  EXPECT_EQ(t.sent[0].second.headers.Get("Content-Type"), "application/json");
}

TEST(ApiClientTest, TheDialectNamesThrottleStatusesHeadersAndErrorText) {
  ManualClock clock;
  FakeTransport t;
  ApiDialect ym;
  ym.system = "yandex-market";
  ym.throttle_statuses = {420};
  ym.throttle_headers = {
      {"Retry-After"},
      {"X-RateLimit-Resource-Until", ApiDialect::ThrottleHeader::Format::kHttpDate}};
  ym.throttle_pause = 1s;
  ym.error_text = [](const nlohmann::json& body) {
    std::string out;
    if (const nlohmann::json* errors = JsonArray(body, "errors")) {
      for (const auto& e : *errors) {
        out += std::string(JsonString(e, "code").value_or("")) + ": " +
               std::string(JsonString(e, "message").value_or(""));
      }
    }
    return out;
  };
  ApiClient client(Options(ym), t.fn(), clock);
  const std::string limit_body =
      R"({"status":"ERROR","errors":[{"code":"LIMIT_EXCEEDED","message":"slow down"}]})";
  // 420 with X-RateLimit-Resource-Until: that date.
  t.answers = {
      Answer(420, limit_body, {{"X-RateLimit-Resource-Until", "Tue, 14 Nov 2023 22:14:00 GMT"}})};
  auto r = client.Call({.url = "https://h/v2/x"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ApiError::Kind::kThrottled);
  EXPECT_EQ(r.error().message, "yandex-market: GET /v2/x: HTTP 420: LIMIT_EXCEEDED: slow down");
  ASSERT_TRUE(r.error().not_before);
  EXPECT_EQ(ToUnixMillis(*r.error().not_before), 1700000040000);
  // 420 naming no time: the dialect's pause.
  t.answers = {Answer(420, limit_body)};
  r = client.Call({.url = "https://h/v2/x"});
  EXPECT_EQ(*r.error().not_before, clock.Now() + 1s);
  // Retry-After first when both are there; 5xx honour it too.
  t.answers = {Answer(503, "", {{"Retry-After", "7"}})};
  r = client.Call({.url = "https://h/v2/x"});
  EXPECT_EQ(r.error().kind, ApiError::Kind::kTransient);
  EXPECT_EQ(*r.error().not_before, clock.Now() + 7s);

  ApiDialect wb;
  wb.system = "wildberries";
  wb.throttle_headers = {{"X-Ratelimit-Retry", ApiDialect::ThrottleHeader::Format::kSeconds},
                         {"Retry-After"}};
  ApiClient wb_client(Options(wb), t.fn(), clock);
  t.answers = {Answer(429, R"({"title":"too many requests","detail":"limited"})",
                      {{"X-Ratelimit-Retry", "0"}, {"Retry-After", "30"}})};
  r = wb_client.Call({.url = "https://h/api/v3/orders"});
  EXPECT_EQ(*r.error().not_before, clock.Now() + 1s);  // "0" is read as one second
  EXPECT_EQ(r.error().message, "wildberries: GET /api/v3/orders: HTTP 429: limited");
}

TEST(ApiClientTest, LimitsRefuseBeforeSendingAndAnswersCostExtra) {
  ManualClock clock;
  FakeTransport t;
  ApiDialect wb;
  wb.system = "wildberries";
  wb.extra_cost = [](int status) { return status == 409 ? int64_t{9} : int64_t{0}; };
  ApiClient client(Options(wb), t.fn(), clock);
  TokenBucket stocks(clock, RateLimit::Every(200ms, 20));
  SlidingWindow items(clock, 1000, 1min);
  auto call = [&](int64_t n) {
    return client.Call({.method = "PUT",
                        .url = "https://h/api/v3/stocks/1",
                        .group = "stocks",
                        .limits = {{&stocks, 1}, {&items, n}},
                        .expect = ApiRequest::Expect::kAny});
  };
  t.answers = {Answer(409, "[]")};
  auto r = call(500);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ApiError::Kind::kRejected);
  EXPECT_EQ(t.sent.size(), 1u);
  EXPECT_EQ(t.sent[0].first, "stocks");
  EXPECT_EQ(stocks.Available(), 10);  // 20 - 1 - 9
  // The item budget has 491 left (500 + the 9 charged): 600 are refused
  // without sending, with the time they fit.
  r = call(600);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ApiError::Kind::kThrottled);
  EXPECT_EQ(r.error().http_status, 0);
  EXPECT_EQ(*r.error().not_before, clock.Now() + 1min);
  EXPECT_EQ(t.sent.size(), 1u);
}

}  // namespace
}  // namespace crmhub::net
