// `crmhub run` with an onec-exchange adapter, driven over HTTP as 1C drives
// it with its own sample files in chunks: the catalogue ends as products,
// prices and stock in crm.db, an order document sent back by 1C
// (type=sale&mode=file) as orders with their lines and totals; the same
// exchange run again changes nothing.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "adapters/onec_exchange/onec_exchange_sim.h"
#include "crm/sqlite_store.h"
#include "net/hmac.h"
#include "tests/daemon/test_support.h"

namespace crmhub::testutil {
namespace {

namespace fs = std::filesystem;

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string Contract(const std::string& name) {
  std::ifstream in(std::string(CRMHUB_CONTRACTS_DIR) + "/onec/commerceml/" + name,
                   std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

class Exchange1c {
 public:
  explicit Exchange1c(uint16_t port) : port_(port) {}
  // One exchange as 1C runs it: checkauth, init, each file in chunks, import.
  void Run(const std::string& type, const std::vector<std::pair<std::string, std::string>>& files) {
    auto auth = HttpRequest(port_, "GET", "/hooks/onec?type=" + type + "&mode=checkauth", "",
                            {{"Authorization", "Basic " + net::Base64Encode("exchange:p4ss")}});
    ASSERT_EQ(auth.status, 200) << auth.body;
    std::istringstream lines(auth.body);
    std::string success, name, value;
    std::getline(lines, success);
    std::getline(lines, name);
    std::getline(lines, value);
    const std::map<std::string, std::string> cookie = {{"Cookie", name + "=" + value}};
    ASSERT_EQ(
        HttpRequest(port_, "GET", "/hooks/onec?type=" + type + "&mode=init", "", cookie).status,
        200);
    for (const auto& [filename, bytes] : files) {
      for (size_t at = 0; at < bytes.size(); at += 32 * 1024) {
        auto chunk = HttpRequest(port_, "POST",
                                 "/hooks/onec?type=" + type + "&mode=file&filename=" + filename,
                                 bytes.substr(at, 32 * 1024), cookie);
        ASSERT_EQ(chunk.status, 200) << chunk.body;
        ASSERT_EQ(chunk.body, "success\n");
      }
      // "progress" while the daemon stages and applies the file in the
      // background; 1C asks again until "success".
      for (int round = 0;; ++round) {
        auto import = HttpRequest(port_, "GET",
                                  "/hooks/onec?type=" + type + "&mode=import&filename=" + filename,
                                  "", cookie);
        ASSERT_EQ(import.status, 200) << import.body;
        if (import.body == "success\n") break;
        ASSERT_TRUE(import.body.starts_with("progress\n")) << import.body;
        ASSERT_LT(round, 3000) << "still " << import.body;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }

 private:
  uint16_t port_;
};

TEST(OnecExchangeE2eTest, CatalogueAndOrdersIntoCrmDbAndAgainNothingChanges) {
  TempDir dir;
  const uint16_t port = FreePort();
  fs::create_directories(dir.path() / "mappings");
  fs::create_directories(dir.path() / "secrets");
  fs::copy_file(fs::path(CRMHUB_SOURCE_DIR) / "config/mappings/onec-commerceml.toml",
                dir.path() / "mappings/onec-commerceml.toml");
  WriteFile(dir.path() / "secrets/pw", "p4ss");
  WriteFile(dir.path() / "secrets/admin", "admin-token-e2e-1234567890");
  WriteFile(dir.path() / "crmhub.toml", fmt::format(R"([daemon]
data_dir = "data"
io_threads = 2

[log]
level = "warn"

[http]
listen = ["127.0.0.1:{}"]

[admin]
token_file = "secrets/admin"

[adapters.onec]
type = "onec-exchange"
user = "exchange"
password_file = "secrets/pw"
file_limit = "32KiB"
staging_dir = "staging"
mapping = "mappings/onec-commerceml.toml"
)",
                                                    port));
  ChildProcess daemon({CrmhubBinary(), "run", "--config", (dir.path() / "crmhub.toml").string()},
                      {}, dir.path() / "daemon.log");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (HttpRequest(port, "GET", "/healthz").status != 200) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << daemon.Output();
    ::usleep(50 * 1000);
  }
  const std::vector<std::pair<std::string, std::string>> catalogue = {
      {"import0_1.xml", Contract("dobromyslov_import0_1.xml")},
      {"offers0_1.xml", Contract("dobromyslov_offers0_1.xml")}};
  const std::vector<std::pair<std::string, std::string>> orders = {
      {"orders.xml", Contract("1c_official_example_orders.xml")}};
  Exchange1c onec(port);
  onec.Run("catalog", catalogue);
  onec.Run("sale", orders);

  SystemClock clock;
  std::unique_ptr<crm::SqliteCrmStore> store;
  auto count = [&](model::EntityKind kind) -> int64_t {
    if (!store) {
      if (!fs::exists(dir.path() / "data/crm.db")) return 0;
      crm::SqliteStoreOptions o;
      o.path = dir.path() / "data/crm.db";
      auto opened = crm::SqliteCrmStore::Open(o, clock);
      if (!opened.ok()) return 0;
      store = std::move(*opened);
    }
    return store->Count(kind, std::string("onec")).value_or(0);
  };
  auto settled = [&] {
    auto q = HttpRequest(port, "GET", "/api/v1/queue", "",
                         {{"Authorization", "Bearer admin-token-e2e-1234567890"}});
    auto j = nlohmann::json::parse(q.body, nullptr, false);
    if (q.status != 200 || !j.is_object() || j["depth"] != 0) return false;
    for (const auto& lane : j["lanes"]) EXPECT_EQ(lane["dead"], 0) << q.body;  // no dead letter
    return true;
  };
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!(count(model::EntityKind::kProduct) == 36 && count(model::EntityKind::kOrder) == 3 &&
           count(model::EntityKind::kStockLevel) == 44 && settled())) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "products " << count(model::EntityKind::kProduct) << ", orders "
        << count(model::EntityKind::kOrder) << "\n"
        << daemon.Output();
    ::usleep(100 * 1000);
  }
  auto order = store->Find(model::EntityKind::kOrder, "onec", "36");
  ASSERT_TRUE(order.ok() && order->has_value());
  EXPECT_EQ((*order)->entity.fields["total"], 673447);
  EXPECT_EQ((*order)->entity.fields["lines"].size(), 2u);
  const int64_t prices = count(model::EntityKind::kPrice);
  EXPECT_GE(prices, 44);
  auto applied = store->AppliedEventCount();
  ASSERT_TRUE(applied.ok());

  // The same exchange again: chunks and imports are new hints, every record
  // a duplicate: nothing in crm.db changes.
  onec.Run("catalog", catalogue);
  onec.Run("sale", orders);
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!settled()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << daemon.Output();
    ::usleep(100 * 1000);
  }
  EXPECT_EQ(count(model::EntityKind::kProduct), 36);
  EXPECT_EQ(count(model::EntityKind::kOrder), 3);
  EXPECT_EQ(count(model::EntityKind::kPrice), prices);
  EXPECT_EQ(*store->AppliedEventCount(), *applied);
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(std::chrono::seconds(30)), 0);
}

// Every row of crm.db's tables, as `sqlite3 .dump` prints them: equal
// dumps, an unchanged store.
std::string DumpDb(const fs::path& db) {
  const fs::path out = db.parent_path() / "dump.sql";
  const std::string cmd = "sqlite3 -readonly '" + db.string() + "' .dump > '" + out.string() + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(out, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// The same through `crmhub sim onec`'s exchange client (1C played from the
// protocol's description), reading the sample files from a folder and, as
// crmhub offers zip=yes, sending them as one archive in chunks. Run twice,
// the second exchange leaves crm.db exactly as it was.
TEST(OnecExchangeE2eTest, TheSimulatorDrivesTheExchangeZippedInChunksAndAgainChangesNothing) {
  TempDir dir;
  const uint16_t port = FreePort();
  fs::create_directories(dir.path() / "mappings");
  fs::create_directories(dir.path() / "secrets");
  fs::create_directories(dir.path() / "files");
  fs::copy_file(fs::path(CRMHUB_SOURCE_DIR) / "config/mappings/onec-commerceml.toml",
                dir.path() / "mappings/onec-commerceml.toml");
  WriteFile(dir.path() / "secrets/pw", "p4ss");
  WriteFile(dir.path() / "secrets/admin", "admin-token-e2e-1234567890");
  WriteFile(dir.path() / "files/import0_1.xml", Contract("dobromyslov_import0_1.xml"));
  WriteFile(dir.path() / "files/offers0_1.xml", Contract("dobromyslov_offers0_1.xml"));
  WriteFile(dir.path() / "files/orders.xml", Contract("1c_official_example_orders.xml"));
  WriteFile(dir.path() / "crmhub.toml", fmt::format(R"([daemon]
data_dir = "data"

[log]
level = "warn"

[http]
listen = ["127.0.0.1:{}"]

[admin]
token_file = "secrets/admin"

[adapters.onec]
type = "onec-exchange"
user = "exchange"
password_file = "secrets/pw"
file_limit = "1KiB"
zip = true
staging_dir = "staging"
mapping = "mappings/onec-commerceml.toml"
)",
                                                    port));
  ChildProcess daemon({CrmhubBinary(), "run", "--config", (dir.path() / "crmhub.toml").string()},
                      {}, dir.path() / "daemon.log");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (HttpRequest(port, "GET", "/healthz").status != 200) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << daemon.Output();
    ::usleep(50 * 1000);
  }
  SystemClock clock;
  auto exchange = [&] {
    simkit::SimOptions so;
    so.credentials = {"exchange:p4ss"};
    so.extra = {{"target", fmt::format("http://127.0.0.1:{}/hooks/onec", port)},
                {"files", (dir.path() / "files").string()}};
    adapters::onec_exchange::OnecExchangeSimulator sim(so, clock);
    EXPECT_TRUE(sim.Start("127.0.0.1:0").ok());
    EXPECT_EQ(sim.Done(std::chrono::seconds(60)), "done") << daemon.Output();
    int chunks = 0;
    for (const std::string& step : sim.Steps()) {
      chunks += step.find("mode=file&filename=catalog.zip") != std::string::npos;
      EXPECT_EQ(step.find("mode=file&filename=import"), std::string::npos) << step;  // zipped
    }
    EXPECT_GE(chunks, 5);  // 164 KB + 67 KB of XML pack to ~9 KB: chunks of 1 KiB
    sim.Stop();
  };
  exchange();
  std::unique_ptr<crm::SqliteCrmStore> store;
  auto count = [&](model::EntityKind kind) -> int64_t {
    if (!store) {
      if (!fs::exists(dir.path() / "data/crm.db")) return 0;
      crm::SqliteStoreOptions o;
      o.path = dir.path() / "data/crm.db";
      auto opened = crm::SqliteCrmStore::Open(o, clock);
      if (!opened.ok()) return 0;
      store = std::move(*opened);
    }
    return store->Count(kind, std::string("onec")).value_or(0);
  };
  auto settled = [&] {
    auto q = HttpRequest(port, "GET", "/api/v1/queue", "",
                         {{"Authorization", "Bearer admin-token-e2e-1234567890"}});
    auto j = nlohmann::json::parse(q.body, nullptr, false);
    if (q.status != 200 || !j.is_object() || j["depth"] != 0) return false;
    for (const auto& lane : j["lanes"]) EXPECT_EQ(lane["dead"], 0) << q.body;  // no dead letter
    return true;
  };
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!(count(model::EntityKind::kProduct) == 36 && count(model::EntityKind::kOrder) == 3 &&
           count(model::EntityKind::kStockLevel) == 44 && settled())) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << daemon.Output();
    ::usleep(100 * 1000);
  }
  // The sample's orders (1c_official_example_orders.xml): № 36 with its two
  // lines (340.00 and 6394.47, one each) and total 6734.47; № 92 and 93,
  // headers without lines, "Открыт".
  auto order = store->Find(model::EntityKind::kOrder, "onec", "36");
  ASSERT_TRUE(order.ok() && order->has_value());
  const auto& fields = (*order)->entity.fields;
  EXPECT_EQ(fields["total"], 673447);
  ASSERT_EQ(fields["lines"].size(), 2u);
  EXPECT_EQ(fields["lines"][0]["price"], 34000);
  EXPECT_EQ(fields["lines"][1]["price"], 639447);
  int64_t sum = 0;
  for (const auto& line : fields["lines"]) {
    EXPECT_EQ(line["quantity"], 1);
    sum += line["total"].get<int64_t>();
  }
  EXPECT_EQ(sum, 673447);  // the lines add up to the document's total
  for (const char* id : {"92", "93"}) {
    auto header = store->Find(model::EntityKind::kOrder, "onec", id);
    ASSERT_TRUE(header.ok() && header->has_value()) << id;
    EXPECT_EQ((*header)->entity.fields["status"], "Открыт") << id;
  }
  const std::string before = DumpDb(dir.path() / "data/crm.db");
  ASSERT_NE(before.find("INSERT INTO"), std::string::npos);

  exchange();  // the same exchange again
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!settled()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << daemon.Output();
    ::usleep(100 * 1000);
  }
  EXPECT_TRUE(before == DumpDb(dir.path() / "data/crm.db")) << "crm.db changed";
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(std::chrono::seconds(30)), 0);
}

// Orders to 1C through the simulator: the CRM's export_order commands
// (POST /api/v1/commands) are answered at type=sale&mode=query, again while
// 1C does not confirm them, and never after it does; the CRM's copy of an
// order crmhub wrote from 1C is not sent back.
TEST(OnecExchangeE2eTest, OrdersGoTo1cUntilItConfirmsThemAndEchoesDoNot) {
  TempDir dir;
  const uint16_t port = FreePort();
  fs::create_directories(dir.path() / "mappings");
  fs::create_directories(dir.path() / "secrets");
  fs::create_directories(dir.path() / "files");
  fs::create_directories(dir.path() / "none");
  fs::copy_file(fs::path(CRMHUB_SOURCE_DIR) / "config/mappings/onec-commerceml.toml",
                dir.path() / "mappings/onec-commerceml.toml");
  WriteFile(dir.path() / "secrets/pw", "p4ss");
  WriteFile(dir.path() / "secrets/admin", "admin-token-e2e-1234567890");
  WriteFile(dir.path() / "files/orders.xml", Contract("1c_official_example_orders.xml"));
  WriteFile(dir.path() / "crmhub.toml", fmt::format(R"([daemon]
data_dir = "data"

[log]
level = "warn"

[http]
listen = ["127.0.0.1:{}"]

[admin]
token_file = "secrets/admin"

[adapters.onec]
type = "onec-exchange"
user = "exchange"
password_file = "secrets/pw"
staging_dir = "staging"
mapping = "mappings/onec-commerceml.toml"
)",
                                                    port));
  ChildProcess daemon({CrmhubBinary(), "run", "--config", (dir.path() / "crmhub.toml").string()},
                      {}, dir.path() / "daemon.log");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (HttpRequest(port, "GET", "/healthz").status != 200) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << daemon.Output();
    ::usleep(50 * 1000);
  }
  const std::map<std::string, std::string> admin = {
      {"Authorization", "Bearer admin-token-e2e-1234567890"}};
  auto settled = [&] {
    auto q = HttpRequest(port, "GET", "/api/v1/queue", "", admin);
    auto j = nlohmann::json::parse(q.body, nullptr, false);
    if (q.status != 200 || !j.is_object() || j["depth"] != 0) return false;
    for (const auto& lane : j["lanes"]) EXPECT_EQ(lane["dead"], 0) << q.body;
    return true;
  };
  SystemClock clock;
  // One sale exchange of 1C's; the Ид of the orders the site answered.
  auto exchange = [&](const std::string& files, bool confirm) {
    simkit::SimOptions so;
    so.credentials = {"exchange:p4ss"};
    so.extra = {{"target", fmt::format("http://127.0.0.1:{}/hooks/onec", port)},
                {"files", (dir.path() / files).string()},
                {"query", "yes"},
                {"fail_before_success", confirm ? "no" : "yes"}};
    adapters::onec_exchange::OnecExchangeSimulator sim(so, clock);
    EXPECT_TRUE(sim.Start("127.0.0.1:0").ok());
    EXPECT_EQ(sim.Done(std::chrono::seconds(60)), "done") << daemon.Output();
    sim.Stop();
    std::vector<std::string> ids = sim.OrdersReceived();
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  // 1C sends its three orders; the site has none for it yet.
  EXPECT_TRUE(exchange("files", true).empty());
  std::unique_ptr<crm::SqliteCrmStore> store;
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!store || store->Count(model::EntityKind::kOrder, std::string("onec")).value_or(0) != 3 ||
         !settled()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << daemon.Output();
    if (!store && fs::exists(dir.path() / "data/crm.db")) {
      crm::SqliteStoreOptions o;
      o.path = dir.path() / "data/crm.db";
      auto opened = crm::SqliteCrmStore::Open(o, clock);
      if (opened.ok()) store = std::move(*opened);
    }
    ::usleep(100 * 1000);
  }
  // The CRM sends a new order of its own and its copy of 1C's order 36, as
  // crmhub wrote it (an echo).
  auto stored = store->Find(model::EntityKind::kOrder, "onec", "36");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  nlohmann::json echo = (*stored)->entity.fields;
  echo["order_id"] = "36";
  const nlohmann::json mine = {{"order_id", "crm-1001"},
                               {"status", "new"},
                               {"currency", "RUB"},
                               {"total", 50000},
                               {"lines",
                                {{{"sku", "ORDER_DELIVERY"},
                                  {"name", "Доставка заказа"},
                                  {"quantity", 1},
                                  {"price", 50000},
                                  {"total", 50000}}}}};
  auto headers = admin;
  headers["Idempotency-Key"] = "orders-1";
  auto posted = HttpRequest(
      port, "POST", "/api/v1/commands",
      nlohmann::json{{"target", "onec"}, {"command", "export_order"}, {"items", {mine, echo}}}
          .dump(),
      headers);
  ASSERT_EQ(posted.status, 202) << posted.body;
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!settled()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << daemon.Output();
    ::usleep(100 * 1000);
  }
  const std::vector<std::string> only_mine = {"crm-1001"};
  EXPECT_EQ(exchange("none", false), only_mine);  // 1C fails before success
  EXPECT_EQ(exchange("none", true), only_mine);   // so it goes again, and is confirmed
  EXPECT_TRUE(exchange("none", true).empty());    // exported: not again
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(std::chrono::seconds(30)), 0);
}

// The declared order status precedence reaches the adapter through the
// real daemon ([crm] order_status_precedence, the runtime's
// AdapterContext): after 1C reported its order 36 at "[N] Принят", the
// CRM's export_order of it at "new" (ranked below) is settled and never
// answered at type=sale&mode=query; at "Отгружен" it is.
TEST(OnecExchangeE2eTest, TheDeclaredPrecedenceKeepsAnOlderStatusFrom1c) {
  TempDir dir;
  const uint16_t port = FreePort();
  fs::create_directories(dir.path() / "mappings");
  fs::create_directories(dir.path() / "secrets");
  fs::create_directories(dir.path() / "files");
  fs::create_directories(dir.path() / "none");
  fs::copy_file(fs::path(CRMHUB_SOURCE_DIR) / "config/mappings/onec-commerceml.toml",
                dir.path() / "mappings/onec-commerceml.toml");
  WriteFile(dir.path() / "secrets/pw", "p4ss");
  WriteFile(dir.path() / "secrets/admin", "admin-token-e2e-1234567890");
  WriteFile(dir.path() / "files/orders.xml", Contract("1c_official_example_orders.xml"));
  WriteFile(dir.path() / "crmhub.toml", fmt::format(R"([daemon]
data_dir = "data"

[log]
level = "warn"

[http]
listen = ["127.0.0.1:{}"]

[admin]
token_file = "secrets/admin"

[crm]
order_status_precedence = ["new", "[N] Принят|В работе", "Отгружен"]

[adapters.onec]
type = "onec-exchange"
user = "exchange"
password_file = "secrets/pw"
staging_dir = "staging"
mapping = "mappings/onec-commerceml.toml"
)",
                                                    port));
  ChildProcess daemon({CrmhubBinary(), "run", "--config", (dir.path() / "crmhub.toml").string()},
                      {}, dir.path() / "daemon.log");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (HttpRequest(port, "GET", "/healthz").status != 200) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << daemon.Output();
    ::usleep(50 * 1000);
  }
  std::map<std::string, std::string> admin = {
      {"Authorization", "Bearer admin-token-e2e-1234567890"}};
  auto settle = [&] {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (true) {
      auto q = HttpRequest(port, "GET", "/api/v1/queue", "", admin);
      auto j = nlohmann::json::parse(q.body, nullptr, false);
      if (q.status == 200 && j.is_object() && j["depth"] == 0) {
        for (const auto& lane : j["lanes"]) EXPECT_EQ(lane["dead"], 0) << q.body;
        return;
      }
      ASSERT_LT(std::chrono::steady_clock::now(), until) << daemon.Output();
      ::usleep(100 * 1000);
    }
  };
  SystemClock clock;
  auto exchange = [&](const std::string& files) {
    simkit::SimOptions so;
    so.credentials = {"exchange:p4ss"};
    so.extra = {{"target", fmt::format("http://127.0.0.1:{}/hooks/onec", port)},
                {"files", (dir.path() / files).string()},
                {"query", "yes"}};
    adapters::onec_exchange::OnecExchangeSimulator sim(so, clock);
    EXPECT_TRUE(sim.Start("127.0.0.1:0").ok());
    EXPECT_EQ(sim.Done(std::chrono::seconds(60)), "done") << daemon.Output();
    sim.Stop();
    return sim.OrdersReceived();
  };
  auto export_36 = [&](const std::string& status, const std::string& key) {
    const nlohmann::json order = {{"order_id", "36"},
                                  {"status", status},
                                  {"currency", "RUB"},
                                  {"total", 673447},
                                  {"lines", nlohmann::json::array()}};
    auto headers = admin;
    headers["Idempotency-Key"] = key;
    auto posted = HttpRequest(
        port, "POST", "/api/v1/commands",
        nlohmann::json{{"target", "onec"}, {"command", "export_order"}, {"items", {order}}}.dump(),
        headers);
    ASSERT_EQ(posted.status, 202) << posted.body;
    settle();
  };
  EXPECT_TRUE(exchange("files").empty());  // 1C reports its orders, 36 at "[N] Принят"
  settle();
  export_36("new", "orders-1");
  EXPECT_TRUE(exchange("none").empty());  // older than 1C's: not sent
  export_36("Отгружен", "orders-2");
  EXPECT_EQ(exchange("none"), std::vector<std::string>{"36"});
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(std::chrono::seconds(30)), 0);
}

}  // namespace
}  // namespace crmhub::testutil
