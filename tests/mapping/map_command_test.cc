// `crmhub map` and `crmhub bench mapping` as a user runs them: the real
// binary in a child process, its exit code, stdout and stderr.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

namespace {

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class MapCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("crmhub-map-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // Runs crmhub with `args` (already shell-safe), capturing both streams.
  Outcome Crmhub(const std::string& args) {
    std::string err_path = (dir_ / "stderr.txt").string();
    std::string cmd = std::string(CRMHUB_BINARY) + " " + args + " 2>" + err_path;
    Outcome r;
    FILE* p = ::popen(cmd.c_str(), "r");
    EXPECT_NE(p, nullptr);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(err_path);
    r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return r;
  }

  std::filesystem::path dir_;
};

const std::string kSiteRules = std::string(CRMHUB_SOURCE_DIR) + "/config/mappings/site-lead.toml";

TEST_F(MapCommandTest, PrintsEntitiesAsJsonLines) {
  std::string input =
      Write("form.json", R"({"id": 7, "name": "Олег", "phone": "+375 29 123-45-67"})");
  Outcome r = Crmhub("map --rules " + kSiteRules + " --input " + input + " --source site");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string first = r.out.substr(0, r.out.find('\n'));
  auto contact = nlohmann::json::parse(first);
  EXPECT_EQ(contact["kind"], "contact");
  EXPECT_EQ(contact["source"], "site");
  EXPECT_EQ(contact["external_id"], "site-7");
  EXPECT_EQ(contact["fields"]["phone"], "+375291234567");
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2);  // contact + lead

  Outcome pretty = Crmhub("map --pretty --rules " + kSiteRules + " --input " + input);
  ASSERT_EQ(pretty.exit_code, 0) << pretty.err;
  auto all = nlohmann::json::parse(pretty.out);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1]["kind"], "lead");
  EXPECT_EQ(all[1]["source"], "site-lead");  // default source: the rules' name
}

TEST_F(MapCommandTest, SkippedRecordPrintsNothingAndSucceeds) {
  std::string input = Write("form.json", R"({"id": 8, "test": true})");
  Outcome r = Crmhub("map --rules " + kSiteRules + " --input " + input);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(MapCommandTest, MappingErrorExitsOneWithTheReason) {
  std::string input = Write("form.json", R"({"id": 9, "phone": "позвоните мне"})");
  Outcome r = Crmhub("map --rules " + kSiteRules + " --input " + input);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(
      r.err,
      "error: rule \"contact\" field \"phone\": /phone: \"позвоните мне\": not a phone number "
      "(unexpected character)\n");
  std::string broken = Write("broken.json", "{\"id\": ");
  Outcome bad = Crmhub("map --rules " + kSiteRules + " --input " + broken);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("record: malformed JSON"), std::string::npos) << bad.err;
}

TEST_F(MapCommandTest, RulesFileErrorExitsTwo) {
  std::string rules = Write("bad.toml", "format = 1\n[[entity]]\nrule = \"x\"\nkind = \"deal\"\n");
  std::string input = Write("r.json", "{}");
  Outcome r = Crmhub("map --rules " + rules + " --input " + input);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "error: " + rules + ": rule \"x\": needs external_id\n");
  Outcome usage = Crmhub("map --input " + input);
  EXPECT_EQ(usage.exit_code, 2);
  Outcome help = Crmhub("map --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--rules"), std::string::npos);
}

TEST_F(MapCommandTest, BankStatementInputMapsEveryDocument) {
  Outcome r = Crmhub("map --rules " + std::string(CRMHUB_SOURCE_DIR) +
                     "/config/mappings/bank-1c-statement.toml --input-format 1c-bank --input " +
                     std::string(CRMHUB_CONTRACTS_DIR) +
                     "/banks/1c_client_bank_exchange/kilylabs_one_day_cp1251_crlf.txt");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 13);
}

TEST_F(MapCommandTest, BenchMappingReportsRecordsPerSecond) {
  Outcome r = Crmhub("bench mapping --records 2000 --threads 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["records"], 2000);
  EXPECT_EQ(j["entities"], 6000);  // order + contact + deal each
  EXPECT_GT(j["records_per_second"].get<int64_t>(), 0);
}

}  // namespace
