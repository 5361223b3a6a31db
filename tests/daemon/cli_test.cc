// The `crmhub` binary as a user meets it: help texts, exit codes, and
// check-config's FILE:LINE:COL errors. Runs the real executable.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "config/config.h"
#include "crm/sqlite_store.h"
#include "daemon/adapter_registry.h"
#include "daemon/cli/commands.h"
#include "daemon/cli/demo_world.h"
#include "daemon/config_schema.h"
#include "queue/sqlite_queue.h"
#include "tests/daemon/test_support.h"

namespace crmhub {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testutil::RunAndCapture;

const fs::path kSource = CRMHUB_SOURCE_DIR;

testutil::RunResult Crmhub(std::vector<std::string> args) {
  args.insert(args.begin(), testutil::CrmhubBinary());
  return RunAndCapture(args);
}

TEST(CliTest, TopLevelHelpListsEveryCommand) {
  auto r = Crmhub({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const auto& c : cli::AllCommands()) EXPECT_THAT(r.output, HasSubstr(c.name));
  EXPECT_THAT(r.output, HasSubstr("exit codes"));
}

TEST(CliTest, EverySubcommandHasHelpDescribingItsOptions) {
  for (const auto& c : cli::AllCommands()) {
    auto r = Crmhub({c.name, "--help"});
    EXPECT_EQ(r.exit_code, 0) << c.name << ": " << r.output;
    EXPECT_THAT(r.output, HasSubstr("usage: crmhub")) << c.name;
    // A command with options lists them; a dispatcher (queue, dlq, bench,
    // sim) lists its subcommands, each with a --help of its own.
    const bool lists_options = r.output.find("--help") != std::string::npos;
    const bool lists_subcommands = r.output.find("subcommands:") != std::string::npos ||
                                   r.output.find("kinds:") != std::string::npos ||
                                   r.output.find("simulators:") != std::string::npos;
    EXPECT_TRUE(lists_options || lists_subcommands) << c.name << ": " << r.output;
  }
}

TEST(CliTest, UnknownCommandOrOptionIsAUsageError) {
  auto r = Crmhub({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("unknown command \"frobnicate\""));
  r = Crmhub({"check-config", "--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("unknown option --no-such-flag"));
  r = Crmhub({});
  EXPECT_EQ(r.exit_code, 2);
}

TEST(CliTest, VersionPrintsTheVersion) {
  auto r = Crmhub({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("crmhub 0."));
}

TEST(CheckConfigCliTest, ShippedConfigsAreValid) {
  for (const char* file : {"config/crmhub.example.toml", "config/demo.toml"}) {
    if (!fs::exists(kSource / file)) continue;  // demo.toml lands with the demo
    auto r = Crmhub({"check-config", "--config", (kSource / file).string()});
    EXPECT_EQ(r.exit_code, 0) << file << ": " << r.output;
    EXPECT_THAT(r.output, HasSubstr(": OK")) << file;
  }
  ASSERT_TRUE(fs::exists(kSource / "config/crmhub.example.toml"));
}

class CheckConfigErrorTest : public ::testing::Test {
 protected:
  fs::path Write(const std::string& text) {
    fs::path p = dir_.path() / "bad.toml";
    std::ofstream(p) << text;
    return p;
  }
  testutil::TempDir dir_;
};

TEST_F(CheckConfigErrorTest, UnknownKeyExits2WithLocation) {
  fs::path p = Write("[http]\nlisten = [\"127.0.0.1:0\"]\nlisten_port = 80\n");
  auto r = Crmhub({"check-config", "--config", p.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr(p.string() + ":3:1: [http] unknown key \"listen_port\""));
}

TEST_F(CheckConfigErrorTest, WrongTypeExits2WithLocation) {
  fs::path p = Write("[daemon]\nio_threads = \"two\"\n");
  auto r = Crmhub({"check-config", "--config", p.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr(p.string() + ":2:14: [daemon] io_threads: expected an integer"));
}

TEST_F(CheckConfigErrorTest, MissingSecretFileExits2WithLocation) {
  fs::path p = Write("[admin]\ntoken_file = \"secrets/nope\"\n");
  auto r = Crmhub({"check-config", "--config", p.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(
      r.output,
      HasSubstr(p.string() + ":2:14: [admin] token_file: cannot read the secret file it names"));
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("secrets/nope")));
}

// Regression: check-config passed what `run` refused or could not serve.
// Each is exit 2 with FILE:LINE:COL now, the same check `run` makes.
TEST_F(CheckConfigErrorTest, WhatRunRefusesCheckConfigRefuses) {
  std::ofstream(dir_.path() / "key") << "k";
  ::chmod((dir_.path() / "key").c_str(), 0600);
  struct Case {
    std::string toml;
    std::string located;  // ":LINE:COL: [section] key: ..." after the file name
  };
  const std::vector<Case> cases = {
      {"[adapters.site]\ntype = \"webhook\"\nsecret_file = \"./key\"\nidempotency_key = \"/id\"\n",
       ":1:11: [adapters.site] mapping: required: this adapter receives records"},
      {"[http]\nlisten = [\"0.0.0.0:99999\"]\n",
       ":2:10: [http] listen: \"0.0.0.0:99999\": the port must be a number from 0 to 65535"},
      {"[http]\nlisten = [\"::1:8080\"]\n", ":2:10: [http] listen: \"::1:8080\": write an IPv6"},
      {"[http]\nread_timeout = \"0s\"\n", ":2:16: [http] read_timeout: must be at least 1000 ms"},
      {"[http]\nheader_limit = 0\n", ":2:16: [http] header_limit: must be at least 1KiB"},
      {"[admin]\ntoken_file = \"/dev/zero\"\n",
       ":2:14: [admin] token_file: the secret file it names is not a regular file"},
  };
  for (const Case& c : cases) {
    fs::path p = Write(c.toml);
    auto r = Crmhub({"check-config", "--config", p.string()});
    EXPECT_EQ(r.exit_code, 2) << c.toml << r.output;
    EXPECT_THAT(r.output, HasSubstr(p.string() + c.located)) << c.toml;
  }
  // `listen` also takes one address, as users write it first.
  fs::path one = Write("[http]\nlisten = \"127.0.0.1:0\"\n");
  auto ok = Crmhub({"check-config", "--config", one.string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
}

// Named admin tokens with scopes, and the separate admin listener.
TEST_F(CheckConfigErrorTest, AdminTokensAndListenerAreChecked) {
  for (const auto& [name, text] :
       {std::pair{"long", "tok-0123456789abcdef"}, std::pair{"long2", "tok-fedcba9876543210"},
        std::pair{"short", "tok-123"}}) {
    std::ofstream(dir_.path() / name) << text;
    ::chmod((dir_.path() / name).c_str(), 0600);
  }
  struct Case {
    std::string toml;
    std::string located;
  };
  const std::vector<Case> cases = {
      {"[admin.tokens.ops]\ntoken_file = \"./long\"\nscopes = [\"read\", \"write\"]\n",
       ":3:10: [admin.tokens.ops] scopes: \"write\" is not one of: read, replay, commands, admin"},
      {"[admin.tokens.ops]\ntoken_file = \"./long\"\n",
       ":1:15: [admin.tokens.ops] scopes: required key is missing"},
      {"[admin.tokens.ops]\ntoken_file = \"./short\"\nscopes = \"read\"\n",
       ":2:14: [admin.tokens.ops] token_file: the token is shorter than 16 characters"},
      {"[admin.tokens.ops]\ntoken_file = \"./long\"\nscopes = \"read\"\n"
       "[admin.tokens.crm]\ntoken_file = \"./long\"\nscopes = \"commands\"\n",
       // (sections are read in name order: crm, then ops)
       ":2:14: [admin.tokens.ops] token_file: the same token as \"crm\""},
      {"[admin]\ntoken_file = \"./long2\"\n[admin.tokens.admin]\ntoken_file = \"./long\"\n"
       "scopes = \"read\"\n",
       ":4:14: [admin.tokens.admin] token_file: the token name \"admin\" is used twice"},
      {"[admin.tokens.Ops]\ntoken_file = \"./long\"\nscopes = \"read\"\n",
       ":2:14: [admin.tokens.Ops] token_file: a token's name may contain only"},
      {"[http]\nlisten = \"127.0.0.1:18080\"\n[admin]\nlisten = [\"127.0.0.1:18080\"]\n",
       ":4:10: [admin] listen: 127.0.0.1:18080 is also in [http] listen"},
      {"[admin]\nlisten = [\"localhost\"]\n", ":2:10: [admin] listen: \"localhost\""},
      {"[admin]\nmetrics_require_token = true\n",
       ":2:25: [admin] metrics_require_token: no admin token is configured"},
  };
  for (const Case& c : cases) {
    fs::path p = Write(c.toml);
    auto r = Crmhub({"check-config", "--config", p.string()});
    EXPECT_EQ(r.exit_code, 2) << c.toml << r.output;
    EXPECT_THAT(r.output, HasSubstr(p.string() + c.located)) << c.toml;
    for (const char* secret : {"tok-0123456789abcdef", "tok-fedcba9876543210", "tok-123"}) {
      EXPECT_THAT(r.output, ::testing::Not(HasSubstr(secret))) << c.toml;
    }
  }
  fs::path good = Write(
      "[admin]\nlisten = \"127.0.0.1:0\"\nmetrics_require_token = true\n"
      "[admin.tokens.ops]\ntoken_file = \"./long\"\nscopes = [\"read\", \"replay\"]\n"
      "[admin.tokens.crm-core]\ntoken_file = \"./long2\"\nscopes = \"commands\"\n");
  auto ok = Crmhub({"check-config", "--config", good.string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
}

// A secret pasted where its file belongs is never echoed; a secret file
// every user can read is a warning.
TEST_F(CheckConfigErrorTest, SecretsAreNotEchoedAndLooseFilesAreWarnedOf) {
  fs::path pasted = Write("[admin]\ntoken_file = \"sUp3rS3cretTokenValue\"\n");
  auto r = Crmhub({"check-config", "--config", pasted.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("sUp3rS3cretTokenValue"))) << r.output;
  EXPECT_THAT(r.output,
              HasSubstr("[admin] token_file: the value is taken for a systemd credential"));
  std::ofstream(dir_.path() / "loose") << "token";
  ::chmod((dir_.path() / "loose").c_str(), 0644);
  fs::path loose = Write("[admin]\ntoken_file = \"./loose\"\n");
  auto w = Crmhub({"check-config", "--config", loose.string()});
  EXPECT_EQ(w.exit_code, 0) << w.output;
  EXPECT_THAT(w.output, HasSubstr("warning: " + loose.string() +
                                  ":2:14: [admin] token_file: the secret file loose is readable by "
                                  "every user of this machine"));
}

TEST_F(CheckConfigErrorTest, PositionalFileAndMissingFile) {
  fs::path p = Write("[log]\nlevel = \"debug\"\n");
  auto ok = Crmhub({"check-config", p.string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  auto missing = Crmhub({"check-config", "--config", (dir_.path() / "absent.toml").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.output, HasSubstr("absent.toml:1:1: cannot read config file"));
}

// docs/config.md is generated from the schema; this keeps them equal.
TEST(ConfigReferenceTest, DocsMatchTheSchema) {
  auto r = Crmhub({"check-config", "--print-reference"});
  ASSERT_EQ(r.exit_code, 0);
  std::ifstream in(kSource / "docs/config.md");
  std::stringstream doc;
  doc << in.rdbuf();
  EXPECT_EQ(doc.str(), r.output)
      << "docs/config.md is stale: regenerate it with "
         "`build/crmhub check-config --print-reference > docs/config.md`";
}

}  // namespace
}  // namespace crmhub

namespace crmhub {
namespace {

TEST_F(CheckConfigErrorTest, BrokenMappingRulesFileIsAConfigError) {
  std::ofstream(dir_.path() / "rules.toml")
      << "format = 1\nname = \"x\"\n[[entity]]\nrule = \"e\"\nkind = \"spaceship\"\n";
  std::ofstream(dir_.path() / "hmac") << "k";
  fs::path p = Write(
      "[adapters.site]\ntype = \"webhook\"\nsecret_file = \"./hmac\"\nidempotency_key = \"/id\"\n"
      "mapping = \"rules.toml\"\n");
  auto r = Crmhub({"check-config", "--config", p.string()});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr(p.string() + ":5:11: [adapters.site] mapping:"));
  EXPECT_THAT(r.output, HasSubstr("spaceship"));
}

}  // namespace
}  // namespace crmhub

namespace crmhub {
namespace {

// Issue 22, item 5: the runbook's `crmhub dlq list --config FILE` with
// data_dir left out (as the example config advises) looked in ./var and
// said only "no queue database at var/queue.db". It now finds the queue as
// the daemon does ($STATE_DIRECTORY), and when it cannot, says where it
// looked and how to point it elsewhere.
TEST(QueueCliLocationTest, ConfigWithoutDataDirUsesStateDirectoryAndSaysWhereItLooked) {
  testutil::TempDir dir;
  const fs::path config = dir.path() / "crmhub.toml";
  testutil::WriteFile(config, "[http]\nlisten = \"127.0.0.1:0\"\n");
  auto missing = Crmhub({"dlq", "list", "--config", config.string()});
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_THAT(missing.output, HasSubstr("no queue database at var/queue.db"));
  EXPECT_THAT(missing.output, HasSubstr("sets no [daemon] data_dir"));
  EXPECT_THAT(missing.output, HasSubstr("--data-dir"));
  EXPECT_THAT(missing.output, HasSubstr("STATE_DIRECTORY"));

  const fs::path state = dir.path() / "state";
  {
    SystemClock clock;
    queue::SqliteQueueOptions options;
    options.data_dir = state;
    auto q = queue::SqliteQueue::Open(clock, options);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
  }
  testutil::ChildProcess cli(
      {testutil::CrmhubBinary(), "queue", "stats", "--config", config.string()},
      {{"STATE_DIRECTORY", state.string()}}, dir.path() / "cli.log");
  EXPECT_EQ(cli.Wait(std::chrono::seconds(60)), 0) << cli.Output();
}

// From a shell (no $STATE_DIRECTORY) the tools look where the packaged unit
// keeps state when the working directory has no queue.
TEST(QueueCliLocationTest, FromAShellTheUnitsStateDirectoryIsFound) {
  testutil::TempDir dir;
  SystemClock clock;
  queue::SqliteQueueOptions options;
  options.data_dir = dir.path() / "lib";
  ASSERT_TRUE(queue::SqliteQueue::Open(clock, options).ok());
  testutil::WriteFile(dir.path() / "c.toml", "");
  auto loaded =
      config::LoadConfig(dir.path() / "c.toml", daemon::BuildSchema(daemon::AllAdapterTypes()));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ::unsetenv("STATE_DIRECTORY");
  auto choice = daemon::ExplainDataDirForTool(*loaded, "c.toml", dir.path() / "lib");
  EXPECT_EQ(choice.path, dir.path() / "lib");
  EXPECT_THAT(choice.how, HasSubstr("StateDirectory="));
  auto elsewhere = daemon::ExplainDataDirForTool(*loaded, "c.toml", dir.path() / "none");
  EXPECT_EQ(elsewhere.path, fs::path("var"));
}

}  // namespace
}  // namespace crmhub

namespace crmhub {
namespace {

// Issue 22, item 8: `crmhub reconcile` compared only the hub's own records,
// so orders the hub never pulled were invisible to it. `--source` asks the
// source (here the Yandex Market simulator, through the real adapter) what
// it lists and shows how many of those are in crm.db.
// The orders a `reconcile --source --json` row listed (its kinds' count).
int OrdersListed(const nlohmann::json& row) {
  if (!row.is_object() || !row.contains("kinds") || !row["kinds"].is_object()) return -1;
  const nlohmann::json& kinds = row["kinds"];
  if (!kinds.contains("order") || !kinds["order"].is_object()) return 0;
  const nlohmann::json& listed = kinds["order"]["entities"];
  return listed.is_number_integer() ? listed.get<int>() : -1;
}

TEST(ReconcileSourceTest, AsksTheSourceAndShowsBothSides) {
  testutil::TempDir dir;
  testutil::ChildProcess sim(
      {testutil::CrmhubBinary(), "sim", "yandex-market", "--listen", "127.0.0.1:0", "--orders", "6",
       "--arrival", "1ms", "--lifetime", "1h"},
      {}, dir.path() / "sim.log");
  std::string base_url;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (base_url.empty() && std::chrono::steady_clock::now() < deadline) {
    const std::string out = sim.Output();
    const size_t at = out.find("listening on http://");
    if (at != std::string::npos && out.find('\n', at) != std::string::npos) {
      base_url = out.substr(at + 13, out.find(' ', at + 13) - at - 13);
    } else if (sim.Wait(std::chrono::milliseconds(50))) {
      break;  // the simulator exited: its output says why
    }
  }
  ASSERT_FALSE(base_url.empty()) << sim.Output();
  fs::create_directories(dir.path() / "data");
  testutil::WriteFile(dir.path() / "ym-key", "sim-api-key");
  fs::permissions(dir.path() / "ym-key", fs::perms::owner_read | fs::perms::owner_write);
  const fs::path config = dir.path() / "c.toml";
  testutil::WriteFile(config,
                      "[daemon]\ndata_dir = \"data\"\n"
                      "[adapters.ym]\ntype = \"yandex-market\"\napi_key_file = \"./ym-key\"\n"
                      "campaign_id = 21000001\nbusiness_id = 31000001\nbase_url = \"" +
                          base_url + "\"\nlookback = \"1h\"\nmapping = \"" +
                          (kSource / "config/mappings/yandex-market-orders.toml").string() +
                          "\"\n"
                          "[adapters.site]\ntype = \"webhook\"\nidempotency_key = \"/id\"\n"
                          "allow_ips = [\"127.0.0.0/8\"]\nmapping = \"" +
                          (kSource / "config/mappings/site-lead.toml").string() + "\"\n");
  auto no_store = Crmhub({"reconcile", "--source", "--config", config.string()});
  EXPECT_EQ(no_store.exit_code, 2) << no_store.output;
  EXPECT_THAT(no_store.output, HasSubstr("no CRM store at"));
  {
    SystemClock clock;
    crm::SqliteStoreOptions options;
    options.path = dir.path() / "data" / "crm.db";
    ASSERT_TRUE(crm::SqliteCrmStore::Open(options, clock).ok());
  }
  // The simulated world creates its orders on the real clock, within a
  // moment of its start: ask until all six are listed. The pass may also
  // list the catalogue (its product cards), or stop before it when Market's
  // rate limit asks for a pause, depending on how fast the machine is: the
  // orders are what is counted here.
  testutil::RunResult r;
  nlohmann::json rows, ym, site;
  const auto listed_by = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    r = Crmhub({"reconcile", "--source", "--json", "--config", config.string()});
    const size_t json_at = r.output.find('[');
    ASSERT_NE(json_at, std::string::npos) << r.output;
    rows = nlohmann::json::parse(r.output.substr(json_at), nullptr, false);
    ASSERT_TRUE(rows.is_array()) << r.output;
    ASSERT_EQ(rows.size(), 2u) << r.output;
    for (const auto& row : rows) (row["adapter"] == "ym" ? ym : site) = row;
  } while (OrdersListed(ym) != 6 && std::chrono::steady_clock::now() < listed_by &&
           !sim.Wait(std::chrono::milliseconds(100)));
  EXPECT_EQ(r.exit_code, 1) << r.output;  // the hub has pulled nothing: all missing
  EXPECT_EQ(ym["asked"], true);
  EXPECT_EQ(OrdersListed(ym), 6) << ym.dump();
  EXPECT_GE(ym["records"].get<int>(), 6) << ym.dump();
  EXPECT_GT(ym["entities"].get<int>(), 0) << ym.dump();
  EXPECT_EQ(ym["in_crm"], 0);
  EXPECT_EQ(ym["missing"], ym["entities"]);
  EXPECT_EQ(site["adapter"], "site");
  EXPECT_EQ(site["asked"], false);
  auto table = Crmhub({"reconcile", "--source", "--config", config.string()});
  EXPECT_THAT(table.output, HasSubstr("LISTED"));
  EXPECT_THAT(table.output, HasSubstr("IN_CRM"));
  EXPECT_THAT(table.output, HasSubstr("not in the CRM store"));
}

}  // namespace
}  // namespace crmhub

namespace crmhub {
namespace {

// Issue 22, item 10: an interrupted demo printed DIFFERENT without saying
// its figures were partial.
TEST(DemoReportTest, AnInterruptedDemoSaysItsFiguresArePartial) {
  demo::Report report;
  report.rows.push_back(
      {.adapter = "ozon-demo", .type = "ozon", .source_count = 300, .crm_count = 120});
  const std::string complete = demo::RenderReport(report, "/tmp/x", 0);
  EXPECT_THAT(complete, HasSubstr("DIFFERENT"));
  EXPECT_THAT(complete, ::testing::Not(HasSubstr("PARTIAL")));
  report.partial = true;
  report.stopped_because = "interrupted (Ctrl-C)";
  const std::string partial = demo::RenderReport(report, "/tmp/x", 0);
  EXPECT_THAT(partial, HasSubstr("PARTIAL: the demo stopped before its stories ended "
                                 "(interrupted (Ctrl-C))"));
  EXPECT_THAT(partial, HasSubstr("differs (partial)"));
  EXPECT_THAT(partial, ::testing::Not(HasSubstr("DIFFERENT")));
}

}  // namespace
}  // namespace crmhub
