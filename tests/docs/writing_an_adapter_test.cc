// docs/adapters/writing-an-adapter.md's worked example, built and run: the
// Acme adapter against its simulator over loopback HTTP (pull, a signed
// webhook resolved into the order, a stock push), its config type from a
// real file, and the guide's code blocks equal to the example's sources.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "docs/adapters/example/acme_adapter.h"
#include "docs/adapters/example/acme_sim.h"
#include "net/hmac.h"
#include "net/upstream.h"

namespace crmhub::adapters::acme {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class AcmeExampleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    simkit::SimOptions o;
    o.orders = 250;
    o.start = clock_.Now() - std::chrono::hours(2);
    o.arrival = std::chrono::hours(1);
    o.lifetime = std::chrono::minutes(1);
    sim_ = std::make_unique<AcmeSimulator>(o, clock_);
    ASSERT_TRUE(sim_->Start("127.0.0.1:0").ok());
    io_thread_ = std::thread([this] { io_.run(); });
    http_ = std::make_unique<net::HttpClient>(io_, net::HttpClientOptions{});
    AcmeConfig c;
    c.id = "acme-main";
    c.client.base_url = sim_->base_url();
    c.client.token = Secret(sim_->token());
    c.webhook_secret = Secret("hook-secret");
    c.lookback = std::chrono::hours(24);
    adapter_ = std::make_unique<AcmeAdapter>(
        c, net::MakeUpstreamTransport("acme:acme-main", http_.get(), clock_, nullptr, {{"", {}}}),
        clock_);
  }
  void TearDown() override {
    adapter_.reset();
    sim_->Stop();
    http_.reset();
    guard_.reset();
    io_.stop();
    io_thread_.join();
  }

  SystemClock clock_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_{
      io_.get_executor()};
  std::thread io_thread_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<AcmeSimulator> sim_;
  std::unique_ptr<AcmeAdapter> adapter_;
};

TEST_F(AcmeExampleTest, PullsEveryOrderAtItsFinalStatus) {
  std::optional<std::string> cursor;
  std::set<std::string> keys;
  for (int page = 0; page < 20; ++page) {
    auto pulled = adapter_->Pull(cursor);
    ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
    for (const InboundEvent& e : pulled->events) {
      keys.insert(e.idempotency_key);
      EXPECT_EQ(e.kind, "order");
    }
    cursor = pulled->next_cursor;
    if (!pulled->more) break;
  }
  std::set<std::string> expected;
  for (const auto& [id, status] : sim_->OrderStatuses(/*final_only=*/true)) {
    expected.insert(id + ":" + status);
  }
  EXPECT_EQ(keys, expected);
}

TEST_F(AcmeExampleTest, ASignedWebhookIsAHintResolvedIntoThePulledOrder) {
  const std::string body = R"({"event_id":"e-7","event":"order.updated","order_id":"A-7"})";
  net::HttpRequest request;
  request.method = "POST";
  request.path = "/hooks/acme-main";
  request.body = body;
  request.headers.Set("X-Acme-Signature",
                      net::HmacHex(net::HmacAlgorithm::kSha256, "hook-secret", body));
  auto hook = adapter_->HandleWebhook(request);
  ASSERT_TRUE(hook.ok()) << hook.status().ToString();
  ASSERT_EQ(hook->events.size(), 1u);
  EXPECT_TRUE(hook->events[0].resolve);
  request.headers.Set("X-Acme-Signature", "00");
  EXPECT_EQ(adapter_->HandleWebhook(request).status().code(), StatusCode::kUnauthenticated);

  adapters::Hint hint;
  hint.payload = hook->events[0].payload;
  ResolveResult resolved = adapter_->Resolve(hint);
  ASSERT_TRUE(resolved.outcome.ok()) << resolved.outcome.error;
  ASSERT_EQ(resolved.events.size(), 1u);
  EXPECT_EQ(resolved.events[0].idempotency_key, "A-7:" + sim_->OrderStatuses(true).at("A-7"));
  hint.payload = "A-999";  // an order Acme does not know: a dead letter, not a retry
  EXPECT_EQ(adapter_->Resolve(hint).outcome.kind, DeliveryOutcome::Kind::kFail);
}

TEST_F(AcmeExampleTest, StockCommandsArePushedAHundredARequest) {
  std::vector<adapters::Command> batch;
  for (const json& item : sim_->StockCommandItems(150, 7)) {
    adapters::Command m;
    m.name = "set_stock";
    m.payload = item.dump();
    batch.push_back(std::move(m));
  }
  adapters::Command bad;
  bad.name = "set_stock";
  bad.payload = R"({"sku":"SKU-1","stock":"seven"})";
  batch.push_back(bad);
  auto out = adapter_->Deliver(batch);
  ASSERT_EQ(out.size(), batch.size());
  for (size_t i = 0; i < 150; ++i) EXPECT_TRUE(out[i].ok()) << i << ": " << out[i].error;
  EXPECT_EQ(out[150].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(sim_->StockItemsAt(150, 7), 150);
  EXPECT_EQ(sim_->log().Find("PUT", "/v1/stock").size(), 2u);
}

TEST(AcmeTypeTest, TheFactoryBuildsFromAConfigFile) {
  const fs::path dir = fs::temp_directory_path() / "crmhub-acme-type-test";
  fs::create_directories(dir);
  std::ofstream(dir / "token") << "t";
  std::ofstream(dir / "hook") << "h";
  std::ofstream(dir / "crmhub.toml")
      << "[adapters.shop]\ntype = \"acme\"\n"
         "token_file = \"./token\"\nwebhook_secret_file = \"./hook\"\n"
         "base_url = \"http://127.0.0.1:1/\"\n";
  config::Schema schema;
  schema.adapter_types.push_back(Type().schema);
  auto cfg = config::LoadConfig(dir / "crmhub.toml", schema);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  SystemClock clock;
  auto adapter = Type().factory(cfg->Adapters()[0], AdapterContext{.clock = &clock});
  ASSERT_TRUE(adapter.ok()) << adapter.status().ToString();
  EXPECT_EQ((*adapter)->id(), "shop");
  EXPECT_NE((*adapter)->source(), nullptr);
  EXPECT_NE((*adapter)->target(), nullptr);
  fs::remove_all(dir);
}

// Every code block of the guide marked <!-- snippet: NAME --> is the text
// between "// [NAME]" markers in one of the example's files.
TEST(WritingAnAdapterGuideTest, ItsCodeIsTheExamplesCode) {
  const fs::path root = fs::path(CRMHUB_SOURCE_DIR) / "docs/adapters";
  auto read = [](const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  const std::string guide = read(root / "writing-an-adapter.md");
  ASSERT_FALSE(guide.empty());
  std::string sources;
  for (const auto& entry : fs::directory_iterator(root / "example")) sources += read(entry.path());
  const std::regex block(R"(<!-- snippet: ([a-z-]+) -->\n```c\+\+\n([\s\S]*?)```)");
  int blocks = 0;
  for (std::sregex_iterator it(guide.begin(), guide.end(), block), end; it != end; ++it) {
    ++blocks;
    const std::string name = (*it)[1];
    const std::string marker = "// [" + name + "]\n";
    const size_t open = sources.find(marker);
    ASSERT_NE(open, std::string::npos) << "no // [" << name << "] in docs/adapters/example";
    const size_t close = sources.find(marker, open + marker.size());
    ASSERT_NE(close, std::string::npos) << name;
    std::string code = sources.substr(open + marker.size(), close - open - marker.size());
    while (!code.empty() && code.back() == ' ') code.pop_back();  // the closing marker's indent
    // Dedent by the marker's indentation.
    std::string indent;
    for (size_t i = open; i > 0 && (sources[i - 1] == ' '); --i) indent += ' ';
    std::string dedented;
    std::istringstream lines(code);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(indent, 0) == 0) line.erase(0, indent.size());
      dedented += line + "\n";
    }
    EXPECT_EQ((*it)[2].str(), dedented)
        << "the guide's snippet \"" << name << "\" differs from the example";
  }
  EXPECT_GE(blocks, 5);
}

}  // namespace
}  // namespace crmhub::adapters::acme
