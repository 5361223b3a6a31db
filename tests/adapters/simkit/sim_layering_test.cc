// A simulator never links its adapter: its limits and parsing are its own
// reading of the spec, so that where the adapter and the spec disagree a
// test sees it (adapters/simkit/simulator.h). Checked here from the source
// tree, not by convention:
//
//   * no crmhub_sim_* library reaches a crmhub_adapter_* target through
//     the DEPS and target_link_libraries of the CMake files under adapters/;
//   * no simulator source (adapters/<system>/*_sim*.{h,cc}, adapters/simkit/)
//     includes an adapters/ header other than simkit's and simulators'.
//
// The checker is tested on synthetic text that breaks each rule.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace crmhub {
namespace {

namespace fs = std::filesystem;

using Graph = std::map<std::string, std::set<std::string>>;  // target -> what it links

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Adds the targets of one CMake file: crmhub_library(NAME SOURCES ... DEPS
// ...), add_library(NAME ...) and target_link_libraries(NAME [scope] ...).
void AddCmake(const std::string& cmake, Graph& graph) {
  // Comments out, so a commented-out dependency does not count.
  const std::string text = std::regex_replace(cmake, std::regex("#[^\n]*"), "");
  static const std::regex call(
      R"((crmhub_library|add_library|target_link_libraries)\s*\(([^)]*)\))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), call); it != std::sregex_iterator();
       ++it) {
    const std::string command = (*it)[1];
    const std::vector<std::string> args = Words((*it)[2]);
    if (args.empty()) continue;
    std::set<std::string>& deps = graph[args[0]];
    bool in_deps = command == "target_link_libraries";
    for (size_t i = 1; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (a == "DEPS") {
        in_deps = true;
      } else if (a == "SOURCES") {
        in_deps = false;
      } else if (in_deps && a != "PUBLIC" && a != "PRIVATE" && a != "INTERFACE") {
        deps.insert(a);
      }
    }
  }
}

// "crmhub_sim_x reaches crmhub_adapter_y (via ...)" for each simulator
// target that links an adapter target, directly or through others.
std::vector<std::string> LinkViolations(const Graph& graph) {
  std::vector<std::string> out;
  for (const auto& [target, direct] : graph) {
    if (target.rfind("crmhub_sim_", 0) != 0) continue;
    // Depth-first, remembering the path for the message.
    std::set<std::string> seen;
    std::vector<std::pair<std::string, std::string>> stack;  // (node, path to it)
    for (const auto& d : direct) stack.emplace_back(d, target + " -> " + d);
    while (!stack.empty()) {
      auto [node, path] = stack.back();
      stack.pop_back();
      if (!seen.insert(node).second) continue;
      if (node.rfind("crmhub_adapter_", 0) == 0 || node == "crmhub_adapters") {
        out.push_back(path);
        continue;
      }
      if (auto next = graph.find(node); next != graph.end()) {
        for (const auto& d : next->second) stack.emplace_back(d, path + " -> " + d);
      }
    }
  }
  return out;
}

// Whether `relative` (a path under adapters/) is simulator code.
bool IsSimulatorSource(const std::string& relative) {
  const fs::path p(relative);
  if (p.extension() != ".h" && p.extension() != ".cc") return false;
  return relative.rfind("simkit/", 0) == 0 ||
         p.filename().string().find("_sim") != std::string::npos;
}

// The adapters/ includes of simulator source `relative` that are neither
// simkit's nor another simulator's.
std::vector<std::string> IncludeViolations(const std::string& relative, const std::string& text) {
  std::vector<std::string> out;
  static const std::regex include(R"re(#\s*include\s*"(adapters/[^"]*)")re");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), include);
       it != std::sregex_iterator(); ++it) {
    const std::string header = (*it)[1];
    const std::string under = header.substr(std::string("adapters/").size());
    const bool simkit = under.rfind("simkit/", 0) == 0;
    const bool simulator = under.find('/') != std::string::npos &&
                           fs::path(under).filename().string().find("_sim") != std::string::npos;
    if (!simkit && !simulator) out.push_back("adapters/" + relative + " includes " + header);
  }
  return out;
}

const fs::path kAdapters = fs::path(CRMHUB_SOURCE_DIR) / "adapters";

TEST(SimLayeringTest, NoSimulatorTargetLinksAnAdapterTarget) {
  Graph graph;
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kAdapters)) {
    if (entry.path().filename() != "CMakeLists.txt") continue;
    AddCmake(ReadFile(entry.path()), graph);
    ++files;
  }
  ASSERT_GT(files, 3);
  // Not vacuous: the three simulators are there.
  for (const char* sim :
       {"crmhub_sim_ozon", "crmhub_sim_wildberries", "crmhub_sim_yandex_market"}) {
    ASSERT_TRUE(graph.count(sim)) << sim << " is not defined under adapters/";
    EXPECT_TRUE(graph[sim].count("crmhub_simkit")) << sim << " is not built on simkit";
  }
  for (const std::string& v : LinkViolations(graph)) ADD_FAILURE() << v;
}

TEST(SimLayeringTest, NoSimulatorSourceIncludesAdapterCode) {
  int sources = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kAdapters)) {
    if (!entry.is_regular_file()) continue;
    const std::string relative = fs::relative(entry.path(), kAdapters).string();
    if (!IsSimulatorSource(relative)) continue;
    ++sources;
    for (const std::string& v : IncludeViolations(relative, ReadFile(entry.path()))) {
      ADD_FAILURE() << v;
    }
  }
  EXPECT_GE(sources, 6);  // three simulators, a header and a source each at least
}

// The test of the tests: text that breaks each rule is reported.
TEST(SimLayeringTest, TheCheckerReportsWhatBreaksTheRules) {
  Graph graph;
  AddCmake(R"(
crmhub_library(crmhub_adapter_foo SOURCES foo.cc DEPS crmhub_base)
crmhub_library(crmhub_helper SOURCES helper.cc DEPS crmhub_adapter_bar)
# crmhub_library(crmhub_sim_commented SOURCES x.cc DEPS crmhub_adapter_foo)
crmhub_library(crmhub_sim_direct
  SOURCES direct_sim.cc
  DEPS crmhub_simkit crmhub_adapter_foo)
crmhub_library(crmhub_sim_indirect SOURCES indirect_sim.cc DEPS crmhub_simkit crmhub_helper)
crmhub_library(crmhub_sim_late SOURCES late_sim.cc DEPS crmhub_simkit)
target_link_libraries(crmhub_sim_late PRIVATE crmhub_adapters)
crmhub_library(crmhub_sim_clean SOURCES clean_sim.cc DEPS crmhub_simkit crmhub_net)
crmhub_library(crmhub_simkit SOURCES pipeline.cc DEPS crmhub_net)
)",
           graph);
  const std::vector<std::string> links = LinkViolations(graph);
  ASSERT_EQ(links.size(), 3u) << ::testing::PrintToString(links);
  EXPECT_EQ(links[0], "crmhub_sim_direct -> crmhub_adapter_foo");
  EXPECT_EQ(links[1], "crmhub_sim_indirect -> crmhub_helper -> crmhub_adapter_bar");
  EXPECT_EQ(links[2], "crmhub_sim_late -> crmhub_adapters");

  EXPECT_TRUE(IsSimulatorSource("ozon/ozon_sim.cc"));
  EXPECT_TRUE(IsSimulatorSource("wildberries/wildberries_sim_endpoints.cc"));
  EXPECT_TRUE(IsSimulatorSource("simkit/world.h"));
  EXPECT_FALSE(IsSimulatorSource("ozon/ozon_client.cc"));
  EXPECT_FALSE(IsSimulatorSource("wildberries/CMakeLists.txt"));
  const std::vector<std::string> includes = IncludeViolations("ozon/ozon_sim.cc", R"(
#include "adapters/ozon/ozon_sim.h"
#include "adapters/simkit/sim_pipeline.h"
#include "adapters/wildberries/wildberries_sim.h"
#include "adapters/ozon/ozon_client.h"
#  include "adapters/adapter.h"
#include "base/timestamp.h"
)");
  ASSERT_EQ(includes.size(), 2u) << ::testing::PrintToString(includes);
  EXPECT_EQ(includes[0], "adapters/ozon/ozon_sim.cc includes adapters/ozon/ozon_client.h");
  EXPECT_EQ(includes[1], "adapters/ozon/ozon_sim.cc includes adapters/adapter.h");
}

}  // namespace
}  // namespace crmhub
