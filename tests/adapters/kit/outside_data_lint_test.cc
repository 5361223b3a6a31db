// No throwing accessor on outside data anywhere under adapters/: every
// adapter and simulator reads what it receives through base/json_get.h.
// nlohmann's value("key", ...), get<T>(), at(), std::stoll and friends throw
// on a type or text they did not expect, and a catch-all would hide a bug;
// on a worker thread either one used to be able to end the process. This
// scans the sources (a test of the test feeds it a line that breaks the
// rule).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace crmhub {
namespace {

namespace fs = std::filesystem;

struct Rule {
  const char* name;
  std::regex pattern;
};

const std::vector<Rule>& Rules() {
  static const std::vector<Rule> rules = {
      {"nlohmann value(key, default)", std::regex(R"(\.value\(\s*")")},
      {"nlohmann get<T>()", std::regex(R"(\.get<)")},
      {"nlohmann at()", std::regex(R"(\.at\(\s*")")},
      {"std::sto*", std::regex(R"(\bsto(i|l|ll|ul|ull|f|d)\s*\()")},
      {"catch (...)", std::regex(R"(catch\s*\(\s*\.\.\.\s*\))")},
      {"json::parse that throws", std::regex(R"(json::parse\([^;]*\)\s*;)")},
  };
  return rules;
}

// "file:line: rule: text" for every line breaking a rule. A line may opt out
// with a trailing "// outside-data: <why>" (our own data, e.g. a cursor we
// wrote, checked before).
std::vector<std::string> Findings(const std::string& name, std::istream& in) {
  std::vector<std::string> out;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find("// outside-data:") != std::string::npos) continue;
    const std::string code = line.substr(0, line.find("//"));
    for (const Rule& rule : Rules()) {
      if (!std::regex_search(code, rule.pattern)) continue;
      // json::parse(..., nullptr, false) is the non-throwing form.
      if (std::string(rule.name) == "json::parse that throws" &&
          code.find("false") != std::string::npos) {
        continue;
      }
      out.push_back(name + ":" + std::to_string(number) + ": " + rule.name + ": " + line);
    }
  }
  return out;
}

TEST(OutsideDataLintTest, NoThrowingAccessorUnderAdapters) {
  const fs::path root = fs::path(CRMHUB_SOURCE_DIR) / "adapters";
  ASSERT_TRUE(fs::is_directory(root));
  std::vector<std::string> findings;
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const auto ext = entry.path().extension();
    if (ext != ".cc" && ext != ".h") continue;
    ++files;
    std::ifstream in(entry.path());
    for (auto& f : Findings(fs::relative(entry.path(), root.parent_path()).string(), in)) {
      findings.push_back(std::move(f));
    }
  }
  EXPECT_GT(files, 20);
  std::string all;
  for (const auto& f : findings) all += f + "\n";
  EXPECT_TRUE(findings.empty()) << findings.size() << " lines read outside data with a throwing "
                                << "accessor (use base/json_get.h):\n"
                                << all;
}

TEST(OutsideDataLintTest, TheLintSeesEachRuleBroken) {
  std::istringstream in(
      "auto s = body.value(\"status\", std::string());\n"
      "int64_t id = j[\"id\"].get<int64_t>();\n"
      "auto& x = j.at(\"x\");\n"
      "long n = std::stoll(text);\n"
      "} catch (...) {\n"
      "auto j = json::parse(text);\n"
      "auto ok = json::parse(text, nullptr, false);\n"
      "auto cursor = std::stoll(key);  // outside-data: our own cursor, checked above\n"
      "return result.value();\n");
  auto f = Findings("x.cc", in);
  ASSERT_EQ(f.size(), 6u);
  EXPECT_NE(f[0].find("x.cc:1: nlohmann value"), std::string::npos) << f[0];
  EXPECT_NE(f[5].find("x.cc:6: json::parse"), std::string::npos) << f[5];
}

}  // namespace
}  // namespace crmhub
