// FBO postings (/v2/posting/fbo/list) beside FBS, and the account's
// net::Upstream (metrics, circuit breaker, throttling) in front of both.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "tests/adapters/ozon/ozon_test_support.h"

namespace crmhub::adapters::ozon {
namespace {

using nlohmann::json;
using testing::ClientThread;
using testing::ConfigFor;

std::string Header(const InboundEvent& e, const std::string& name) {
  for (const auto& [k, v] : e.headers) {
    if (k == name) return v;
  }
  return {};
}

// The value of the series `name{labels}` in a Prometheus text exposition
// (labels as rendered: sorted by name); nullopt when absent.
std::optional<double> Series(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

// Postings are created and change status while passes run; the FBO list has
// no change-time filter, so every status change must come from re-reading.
// Every FBO posting must arrive with each status it was read in and end
// with its final one, marked as FBO; FBS postings must not be marked so.
TEST(OzonFbo, PostingsArePulledWithTheirStatusChanges) {
  ManualClock clock;
  OzonSimOptions so;
  so.orders = 400;
  so.seed = 5;
  so.fbo_share = 0.5;
  so.arrival = std::chrono::seconds(20);
  so.lifetime = std::chrono::seconds(30);
  OzonSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http;
  auto config = ConfigFor("ozon-main", so, sim.base_url());
  config.page_size = 50;  // several windows per pass
  config.poll_interval = std::chrono::seconds(1);
  OzonAdapter adapter(config, http.transport(), clock);

  const std::set<std::string> fbo = sim.FboPostings();
  ASSERT_GT(fbo.size(), 100u);
  ASSERT_LT(fbo.size(), 300u);
  std::map<std::string, std::string> last_status;
  std::map<std::string, std::set<std::string>> statuses_seen;
  std::optional<std::string> cursor;
  // Until a whole round (FBS pass, then FBO pass) has run after the world
  // ended: an FBO window read before a change is read again only by the
  // next round.
  const SystemTime done_at = sim.AllFinalAt() + std::chrono::seconds(2);
  SystemTime round_started = clock.Now();
  bool more = true;
  int wrong_mark = 0;
  for (int pulls = 0; round_started <= done_at || more; ++pulls) {
    if (!more) round_started = clock.Now();
    ASSERT_LT(pulls, 5000) << "pull loop does not converge";
    auto pulled = adapter.Pull(cursor);
    ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
    ASSERT_FALSE(pulled->not_before.has_value());
    for (const auto& e : pulled->events) {
      auto posting = json::parse(e.payload);
      std::string number = posting["posting_number"];
      const std::string scheme = fbo.count(number) ? "fbo" : "fbs";
      if (Header(e, "ozon_scheme") != scheme || posting["delivery_schema"] != scheme) ++wrong_mark;
      EXPECT_EQ(e.idempotency_key, number + ":" + posting["status"].get<std::string>());
      last_status[number] = posting["status"];
      statuses_seen[number].insert(posting["status"]);
    }
    more = pulled->more;
    cursor = pulled->next_cursor;
    clock.Advance(more ? std::chrono::milliseconds(200) : config.poll_interval);
  }
  EXPECT_EQ(wrong_mark, 0);
  int missing = 0, stale = 0, fbo_changes_seen = 0;
  for (const auto& [number, status] : sim.OrderStatuses(/*final_only=*/true)) {
    auto it = last_status.find(number);
    if (it == last_status.end()) {
      ++missing;
    } else if (it->second != status) {
      ++stale;
    }
    if (fbo.count(number) && statuses_seen[number].size() > 1) ++fbo_changes_seen;
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(stale, 0);
  // Passes every second, a status step every 1..10 s: most FBO postings are
  // read in more than one status.
  EXPECT_GT(fbo_changes_seen, static_cast<int>(fbo.size() / 2));

  // Every FBO request kept to the spec's limits, and the sim answered 200.
  auto requests = sim.log().Find("POST", "/v2/posting/fbo/list");
  ASSERT_FALSE(requests.empty());
  for (const auto& r : requests) {
    EXPECT_EQ(r.status, 200) << r.body;
    auto body = json::parse(r.body);
    EXPECT_LE(body["limit"].get<int>(), 50);
    EXPECT_LE(body["offset"].get<int>(), kMaxPostingsOffset);
    EXPECT_TRUE(body["with"]["analytics_data"].get<bool>());
  }
}

// `schemes` picks the list methods a round reads.
TEST(OzonFbo, SchemesChooseTheListsPulled) {
  for (const auto& [schemes, path] : std::vector<std::pair<std::vector<Scheme>, std::string>>{
           {{Scheme::kFbs}, "/v3/posting/fbs/list"}, {{Scheme::kFbo}, "/v2/posting/fbo/list"}}) {
    ManualClock clock;
    OzonSimOptions so;
    so.orders = 60;
    so.fbo_share = 0.5;
    OzonSimulator sim(so, clock);
    ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
    clock.Advance(std::chrono::minutes(5));  // every posting created and final
    ClientThread http;
    auto config = ConfigFor("ozon-main", so, sim.base_url());
    config.schemes = schemes;
    OzonAdapter adapter(config, http.transport(), clock);
    std::optional<std::string> cursor;
    auto pulled = testing::PullRound(adapter, cursor, 100);
    ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
    const size_t fbo = sim.FboPostings().size();
    EXPECT_EQ(pulled->size(), schemes[0] == Scheme::kFbo ? fbo : 60 - fbo) << path;
    auto log = sim.log().Snapshot();
    ASSERT_FALSE(log.empty());
    for (const auto& r : log) EXPECT_EQ(r.path, path);
  }
}

// A full FBO page is the only sign of more (no has_next): the next page is
// asked by offset; a window holding more than the offset cap (lowered here
// from Ozon's 20000) is halved, and the next pass starts with a window sized
// from the density seen instead of the whole lookback.
TEST(OzonFbo, AWindowPastTheOffsetCapIsHalvedAndTheNextPassStartsSmaller) {
  ManualClock clock;
  OzonSimOptions so;
  so.orders = 200;
  so.fbo_share = 1.0;
  // Spread over most of the lookback (24 h in ConfigFor), as a steady trade.
  so.arrival = std::chrono::hours(23);
  so.lifetime = std::chrono::seconds(3);
  OzonSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  clock.Advance(std::chrono::minutes(23 * 60 + 30));
  ClientThread http;
  auto config = ConfigFor("ozon-main", so, sim.base_url());
  config.schemes = {Scheme::kFbo};
  config.page_size = 50;
  config.max_offset = 100;                      // two pages a window at most
  config.first_window = config.order_lookback;  // no density known: the whole lookback
  OzonAdapter adapter(config, http.transport(), clock);
  auto round = [&](std::optional<std::string>& cursor) {
    auto numbers = testing::PullRound(adapter, cursor, 100);
    EXPECT_TRUE(numbers.ok()) << numbers.status().ToString();
    return numbers.ok() ? numbers->size() : 0;
  };
  std::optional<std::string> cursor;
  EXPECT_EQ(round(cursor), 200u);
  const size_t first_round = sim.log().size();
  auto state = OzonCursor::Parse(*cursor);
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->fbo.window_to_ms, 0) << "the pass is over";
  EXPECT_GT(state->fbo.span_ms, 0);
  EXPECT_LT(state->fbo.span_ms, std::chrono::milliseconds(config.order_lookback).count() / 2);
  clock.Advance(config.poll_interval);
  EXPECT_EQ(round(cursor), 200u);
  const size_t second_round = sim.log().size() - first_round;
  // 200 postings at <= 50 a page: at least 4 answers a round.
  EXPECT_GE(first_round, 5u);
  EXPECT_GE(second_round, 4u);
  // The first round began with the whole lookback (and halved it); the
  // second starts with a window of the span the cursor kept.
  auto window = [&](size_t index) {
    auto body = json::parse(sim.log().Snapshot()[index].body);
    return ToUnixMillis(*testing::ParseOzonTime(body["filter"]["to"].get<std::string>())) -
           ToUnixMillis(*testing::ParseOzonTime(body["filter"]["since"].get<std::string>()));
  };
  const int64_t lookback_ms = std::chrono::milliseconds(config.order_lookback).count();
  EXPECT_EQ(window(0), lookback_ms);
  EXPECT_EQ(window(first_round), state->fbo.span_ms);
  int paged = 0;
  for (const auto& r : sim.log().Snapshot()) {
    EXPECT_EQ(r.status, 200) << r.body;
    auto body = json::parse(r.body);
    EXPECT_LE(body["limit"].get<int>(), 50);
    EXPECT_LE(body["offset"].get<int>(), 50) << "offset + page stays within the cap";
    if (body["offset"].get<int>() > 0) ++paged;
  }
  EXPECT_GT(paged, 0) << "full pages are followed by offset";
}

// ---------------------------------------------------------------------------
// The account's net::Upstream.

class OzonFactory : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "crmhub-ozon-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ / "secrets");
    std::ofstream(dir_ / "secrets/ozon-api-key") << OzonSimOptions().api_key() << "\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Result<std::unique_ptr<Adapter>> Build(const std::string& keys, const AdapterContext& context) {
    std::ofstream(dir_ / "crmhub.toml")
        << "[adapters.ozon-main]\ntype = \"ozon\"\nclient_id = \"" << OzonSimOptions().client_id()
        << "\"\napi_key_file = \"secrets/ozon-api-key\"\n"
        << keys;
    config::Schema schema;
    schema.adapter_types.push_back(Type().schema);
    auto cfg = config::LoadConfig(dir_ / "crmhub.toml", schema);
    if (!cfg.ok()) return cfg.status();
    auto sections = cfg->Adapters();
    if (sections.size() != 1) return Status::Internal("expected one adapter section");
    return Type().factory(sections[0], context);
  }
  std::filesystem::path dir_;
};

// Issue 4's upstream metrics for Ozon, from the adapter the daemon builds.
TEST_F(OzonFactory, SendsThroughTheAccountsUpstreamWithItsMetrics) {
  testing::AdvancingClock clock;  // the Upstream's bucket waits in real time
  OzonSimOptions so;
  so.orders = 40;
  so.arrival = std::chrono::milliseconds(1);
  so.lifetime = std::chrono::milliseconds(3);
  OzonSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  clock.Advance(std::chrono::minutes(1));  // every posting created and final before the round
  ClientThread http;
  MetricsRegistry metrics;
  auto adapter = Build("base_url = \"" + sim.base_url() + "\"\n",
                       AdapterContext{&http.client(), &clock, &metrics});
  ASSERT_TRUE(adapter.ok()) << adapter.status().ToString();
  std::optional<std::string> cursor;
  auto pulled = testing::PullRound(*(*adapter)->source(), cursor, 100);
  ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
  EXPECT_EQ(pulled->size(), 40u);
  EXPECT_NE((*adapter)->DescribeJson().find(R"("schemes":["fbs","fbo"])"), std::string::npos)
      << (*adapter)->DescribeJson();
  const std::string text = metrics.RenderPrometheus();
  // Every FBS and FBO list request of the round (the first round widens its
  // windows from an hour across the 30-day lookback), each answered 200.
  const auto requests = sim.log().Snapshot();
  EXPECT_GE(requests.size(), 2u);
  EXPECT_EQ(Series(text, R"(crmhub_upstream_requests_total{code="200",upstream="ozon:ozon-main"})"),
            static_cast<double>(requests.size()))
      << text;
  EXPECT_EQ(Series(text, R"(crmhub_circuit_open{upstream="ozon:ozon-main"})"), 0.0) << text;
  EXPECT_TRUE(Series(text, R"(crmhub_upstream_throttled_total{upstream="ozon:ozon-main"})"))
      << text;
}

TEST_F(OzonFactory, RejectsUnknownRepeatedOrNoSchemes) {
  for (const char* bad :
       {R"(schemes = ["fbs", "dbs"])", R"(schemes = ["fbo", "fbo"])", R"(schemes = [])"}) {
    auto adapter = Build(std::string(bad) + "\n", AdapterContext{});
    ASSERT_FALSE(adapter.ok()) << bad;
    EXPECT_NE(adapter.status().message().find("schemes"), std::string::npos)
        << adapter.status().ToString();
  }
  ManualClock clock;
  auto fbo_only = Build("schemes = [\"fbo\"]\n", AdapterContext{.clock = &clock});
  ASSERT_TRUE(fbo_only.ok()) << fbo_only.status().ToString();
  EXPECT_NE((*fbo_only)->DescribeJson().find(R"("schemes":["fbo"])"), std::string::npos);
}

// push_allow_ips and push_token_file (kit::ReadPushAuth) fail with the
// key's name, like every other key.
TEST_F(OzonFactory, PushKeysAreCheckedWithTheirNames) {
  ManualClock clock;
  auto bad_range = Build("push_allow_ips = [\"10.0.0.0/33\"]\n", AdapterContext{.clock = &clock});
  ASSERT_FALSE(bad_range.ok());
  EXPECT_NE(bad_range.status().message().find("push_allow_ips"), std::string::npos)
      << bad_range.status().ToString();
  std::ofstream(dir_ / "secrets/empty-token").flush();
  auto empty_token =
      Build("push_token_file = \"secrets/empty-token\"\n", AdapterContext{.clock = &clock});
  ASSERT_FALSE(empty_token.ok());
  EXPECT_NE(empty_token.status().message().find("push_token_file"), std::string::npos)
      << empty_token.status().ToString();
  auto no_clock = Build("", AdapterContext{});
  ASSERT_FALSE(no_clock.ok());
  EXPECT_EQ(no_clock.status().code(), StatusCode::kInternal);
}

// Ozon failing: the breaker opens after its threshold of consecutive
// failures, stops sending, and crmhub_circuit_open says so. Our own bucket
// turning a request away counts as throttled and sends nothing.
TEST(OzonUpstream, FailuresOpenTheCircuitAndLocalThrottlingSendsNothing) {
  ManualClock clock;
  OzonSimOptions so;
  so.orders = 10;
  auto faults = simkit::ParseFaultSpec("500=1");
  ASSERT_TRUE(faults.ok());
  so.faults = *faults;
  OzonSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http;
  MetricsRegistry metrics;
  // max_wait 0: nothing may block on a clock that does not move.
  OzonAdapter adapter(ConfigFor("ozon-main", so, sim.base_url()),
                      testing::UpstreamTransport(http.client(), clock, &metrics, Duration(0)),
                      clock);
  auto pulled = adapter.Pull(std::nullopt);
  ASSERT_FALSE(pulled.ok());
  EXPECT_NE(pulled.status().message().find("HTTP 500"), std::string::npos);
  // Again at once: the bucket (burst 1) has no token; nothing is sent.
  auto throttled = adapter.Pull(std::nullopt);
  ASSERT_TRUE(throttled.ok()) << throttled.status().ToString();
  ASSERT_TRUE(throttled->not_before.has_value());
  EXPECT_GT(*throttled->not_before, clock.Now());
  EXPECT_FALSE(throttled->next_cursor.has_value()) << "cursor unchanged";
  EXPECT_EQ(sim.log().size(), 1u);
  std::string text = metrics.RenderPrometheus();
  EXPECT_EQ(Series(text, R"(crmhub_upstream_throttled_total{upstream="ozon:ozon-main"})"), 1.0)
      << text;
  for (int i = 1; i < 5; ++i) {  // the breaker's default threshold: 5 in a row
    clock.Advance(std::chrono::seconds(1));
    EXPECT_FALSE(adapter.Pull(std::nullopt).ok());
  }
  EXPECT_EQ(sim.log().size(), 5u);
  clock.Advance(std::chrono::seconds(1));
  auto open = adapter.Pull(std::nullopt);
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.status().message().find("circuit open"), std::string::npos)
      << open.status().ToString();
  EXPECT_EQ(sim.log().size(), 5u) << "an open circuit sends nothing";
  text = metrics.RenderPrometheus();
  EXPECT_EQ(Series(text, R"(crmhub_circuit_open{upstream="ozon:ozon-main"})"), 1.0) << text;
  EXPECT_EQ(Series(text, R"(crmhub_upstream_requests_total{code="500",upstream="ozon:ozon-main"})"),
            5.0)
      << text;
}

}  // namespace
}  // namespace crmhub::adapters::ozon
