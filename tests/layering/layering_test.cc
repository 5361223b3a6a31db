// The layering the build enforces (docs/architecture.md, "Layers"):
//
//   * every `#include "folder/..."` in crmhub's own sources goes down the
//     table kAllowed below, never up or sideways (an adapter does not include
//     the daemon; a simulator does not include the adapter it checks; the
//     runtime does not include the CLI, a benchmark or a simulator);
//   * the table itself has no cycle;
//   * the production runtime library (crmhub_runtime) links no simulator, no
//     benchmark and not the CLI, and the benchmarks do not link the CLI: read
//     from the link closures CMake computed at configure time
//     (cmake/layering.cmake, which also fails the configure step).
//
// tests/ may include anything and is not scanned. Each checker is tested on
// synthetic input that breaks its rule (the test of the test).
//
// Why a lint and not per-folder include roots: docs/decisions.md, "Layering".

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace crmhub {
namespace {

namespace fs = std::filesystem;

// Which layer a repository-relative path belongs to: the first pattern that
// matches the whole path wins, so the narrower ones come first.
struct LayerRule {
  const char* layer;
  const char* pattern;
};
const std::vector<LayerRule>& Rules() {
  static const std::vector<LayerRule> rules = {
      {"simkit", R"(adapters/simkit/.*)"},
      // A simulator is a file named *_sim* beside its adapter (the guide's
      // example obeys the same rules), plus the list of them.
      {"simulators", R"((adapters/[^/]+|docs/adapters/example)/[^/]*_sim[^/]*\.(h|cc))"},
      {"simulators", R"(adapters/simulator_registry\.(h|cc))"},
      {"adapters", R"((adapters|docs/adapters/example)/.*)"},
      {"cli", R"(daemon/cli/.*)"},
      {"runtime", R"(daemon/.*)"},
      {"base", R"(base/.*)"},
      {"config", R"(config/.*)"},
      {"net", R"(net/.*)"},
      {"queue", R"(queue/.*)"},
      {"mapping", R"(mapping/.*)"},
      {"crm", R"(crm/.*)"},
      {"matching", R"(matching/.*)"},
      {"bench", R"(bench/.*)"},
      {"tests", R"(tests/.*)"},
  };
  return rules;
}

// What each layer may include besides itself. A layer missing here may
// include nothing else.
using Allowed = std::map<std::string, std::set<std::string>>;
const Allowed& kAllowed() {
  static const Allowed allowed = {
      {"base", {}},
      {"config", {"base"}},
      {"net", {"base"}},
      {"queue", {"base"}},
      {"mapping", {"base"}},
      {"crm", {"base", "config", "net", "queue", "mapping"}},
      // Payment matching works on the CRM store's tables, beside the store.
      {"matching", {"base", "crm", "mapping"}},
      // Adapters are handed Commands and Hints and return events: the runtime
      // routes them to the queue, the mapping and the CRM, which they never see.
      {"adapters", {"base", "config", "net"}},
      // Simulators read the spec on their own: no adapter code, no queue.
      {"simkit", {"base", "config", "net"}},
      {"simulators", {"base", "config", "net", "simkit"}},
      // The runtime library: no CLI, benchmark or simulator.
      {"runtime", {"base", "config", "net", "queue", "mapping", "crm", "adapters", "matching"}},
      // Benchmarks drive the runtime against simulators; never the CLI.
      {"bench",
       {"base", "config", "net", "queue", "mapping", "crm", "adapters", "runtime", "simkit",
        "simulators"}},
      {"cli",
       {"base", "config", "net", "queue", "mapping", "crm", "adapters", "runtime", "simkit",
        "simulators", "bench", "matching"}},
      {"tests",
       {"base", "config", "net", "queue", "mapping", "crm", "adapters", "runtime", "simkit",
        "simulators", "bench", "cli", "matching"}},
  };
  return allowed;
}

std::optional<std::string> LayerOf(const std::string& path) {
  static const std::vector<std::pair<std::string, std::regex>> compiled = [] {
    std::vector<std::pair<std::string, std::regex>> out;
    for (const LayerRule& r : Rules()) out.emplace_back(r.layer, std::regex(r.pattern));
    return out;
  }();
  for (const auto& [layer, re] : compiled) {
    if (std::regex_match(path, re)) return layer;
  }
  return std::nullopt;
}

struct SourceFile {
  std::string path;  // relative to the repository root
  std::string text;
};

// "FILE includes HEADER (LAYER -> LAYER)" for each include the table does
// not allow. Only quoted includes whose path names a layer count: <...> and
// quoted third-party headers are not ours.
std::vector<std::string> IncludeViolations(const std::vector<SourceFile>& files) {
  static const std::regex include(R"re(^[ \t]*#[ \t]*include[ \t]*"([^"]+)")re",
                                  std::regex::multiline);
  std::vector<std::string> out;
  for (const SourceFile& f : files) {
    const std::optional<std::string> from = LayerOf(f.path);
    if (!from) continue;
    for (auto it = std::sregex_iterator(f.text.begin(), f.text.end(), include);
         it != std::sregex_iterator(); ++it) {
      const std::string header = (*it)[1];
      const std::optional<std::string> to = LayerOf(header);
      if (!to || *to == *from) continue;
      auto allowed = kAllowed().find(*from);
      if (allowed != kAllowed().end() && allowed->second.count(*to)) continue;
      out.push_back(f.path + " includes " + header + " (" + *from + " -> " + *to + ")");
    }
  }
  return out;
}

// A cycle in the table, as "a -> b -> a", or nothing.
std::optional<std::string> CycleIn(const Allowed& allowed) {
  enum class Mark { kNone, kOpen, kDone };
  std::map<std::string, Mark> mark;
  std::vector<std::string> path;
  std::optional<std::string> found;
  std::function<void(const std::string&)> visit = [&](const std::string& node) {
    if (found) return;
    if (mark[node] == Mark::kDone) return;
    path.push_back(node);
    if (mark[node] == Mark::kOpen) {
      std::string text;
      for (auto it = std::find(path.begin(), path.end(), node); it != path.end(); ++it) {
        text += (text.empty() ? "" : " -> ") + *it;
      }
      found = text;
      return;
    }
    mark[node] = Mark::kOpen;
    if (auto next = allowed.find(node); next != allowed.end()) {
      for (const std::string& n : next->second) {
        if (n != node) visit(n);
        if (found) return;
      }
    }
    mark[node] = Mark::kDone;
    path.pop_back();
  };
  for (const auto& [node, _] : allowed) visit(node);
  return found;
}

// The targets of `closure` (one per line) that match `forbidden`.
std::vector<std::string> ForbiddenLinks(const std::string& closure, const std::regex& forbidden) {
  std::vector<std::string> out;
  std::istringstream in(closure);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && std::regex_match(line, forbidden)) out.push_back(line);
  }
  return out;
}

// What the production runtime must never link, and what a benchmark must not.
const std::regex kNotInRuntime(
    R"(crmhub_sim_.*|crmhub_simkit|crmhub_simulators|crmhub_.*bench.*|crmhub_cli)");
const std::regex kNotInBench(R"(crmhub_cli)");

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const fs::path kRoot = fs::path(CRMHUB_SOURCE_DIR);

std::vector<SourceFile> TreeSources() {
  std::vector<SourceFile> out;
  for (const char* top : {"base", "config", "net", "queue", "mapping", "crm", "matching",
                          "adapters", "daemon", "bench", "docs"}) {
    for (const auto& entry : fs::recursive_directory_iterator(kRoot / top)) {
      const fs::path& p = entry.path();
      if (!entry.is_regular_file() || (p.extension() != ".h" && p.extension() != ".cc")) continue;
      out.push_back({fs::relative(p, kRoot).generic_string(), ReadFile(p)});
    }
  }
  return out;
}

TEST(LayeringTest, EveryIncludeFollowsTheTable) {
  const std::vector<SourceFile> files = TreeSources();
  // Not vacuous: each layer has files, and each file has a layer.
  std::set<std::string> seen;
  for (const SourceFile& f : files) {
    std::optional<std::string> layer = LayerOf(f.path);
    if (f.path.rfind("docs/", 0) == 0 && !layer) continue;  // docs/ outside the example
    ASSERT_TRUE(layer) << f.path << " belongs to no layer: add it to Rules()";
    seen.insert(*layer);
  }
  for (const auto& [layer, _] : kAllowed()) {
    if (layer == "tests") continue;
    EXPECT_TRUE(seen.count(layer)) << "no file in layer " << layer;
  }
  for (const std::string& v : IncludeViolations(files)) ADD_FAILURE() << v;
}

TEST(LayeringTest, TheTableHasNoCycle) {
  std::optional<std::string> cycle = CycleIn(kAllowed());
  EXPECT_FALSE(cycle) << *cycle;
}

TEST(LayeringTest, TheRuntimeLinksNoSimulatorBenchmarkOrCli) {
  const std::string runtime = ReadFile(CRMHUB_LINKS_DIR "/crmhub_runtime.links");
  ASSERT_NE(runtime.find("crmhub_queue\n"), std::string::npos) << "empty or stale closure";
  ASSERT_NE(runtime.find("crmhub_adapter_ozon\n"), std::string::npos);
  for (const std::string& t : ForbiddenLinks(runtime, kNotInRuntime)) {
    ADD_FAILURE() << "crmhub_runtime links " << t;
  }
  const std::string bench = ReadFile(CRMHUB_LINKS_DIR "/crmhub_orders_bench.links");
  ASSERT_NE(bench.find("crmhub_runtime\n"), std::string::npos);
  for (const std::string& t : ForbiddenLinks(bench, kNotInBench)) {
    ADD_FAILURE() << "crmhub_orders_bench links " << t;
  }
}

// The test of the tests: what breaks each rule is reported.
TEST(LayeringTest, TheCheckersReportWhatBreaksTheRules) {
  EXPECT_EQ(LayerOf("adapters/ozon/ozon_client.cc"), "adapters");
  EXPECT_EQ(LayerOf("adapters/ozon/ozon_sim.cc"), "simulators");
  EXPECT_EQ(LayerOf("adapters/wildberries/wildberries_sim_endpoints.cc"), "simulators");
  EXPECT_EQ(LayerOf("adapters/simkit/world.h"), "simkit");
  EXPECT_EQ(LayerOf("daemon/cli/flags.h"), "cli");
  EXPECT_EQ(LayerOf("daemon/runtime.h"), "runtime");
  EXPECT_EQ(LayerOf("docs/adapters/example/acme_sim.h"), "simulators");
  EXPECT_EQ(LayerOf("nlohmann/json.hpp"), std::nullopt);

  const std::vector<std::string> v = IncludeViolations({
      {"adapters/ozon/ozon_client.cc",
       "#include \"adapters/ozon/ozon_client.h\"\n"
       "#include \"base/clock.h\"\n"
       "#include \"daemon/runtime.h\"\n"  // up: an adapter into the daemon
       "#include <daemon/ignored.h>\n"    // not a quoted include of ours
       "// #include \"daemon/commented.h\" is not at a line's start\n"},
      {"adapters/ozon/ozon_sim.cc",
       "#  include \"adapters/ozon/ozon_client.h\"\n"  // sideways: the sim reads the adapter
       "#include \"adapters/simkit/sim_pipeline.h\"\n"},
      {"daemon/runtime.cc",
       "#include \"daemon/cli/flags.h\"\n"  // the runtime into the CLI
       "#include \"bench/orders_bench.h\"\n"
       "#include \"adapters/ozon/ozon_sim.h\"\n"
       "#include \"adapters/ozon/ozon_adapter.h\"\n"},
      {"bench/orders_bench.cc",
       "#include \"daemon/runtime.h\"\n"
       "#include \"daemon/cli/commands.h\"\n"},
      {"queue/sqlite_queue.cc", "#include \"crm/sink.h\"\n"},
      {"tests/daemon/anything_test.cc", "#include \"daemon/cli/commands.h\"\n"},
  });
  const std::vector<std::string> expected = {
      "adapters/ozon/ozon_client.cc includes daemon/runtime.h (adapters -> runtime)",
      "adapters/ozon/ozon_sim.cc includes adapters/ozon/ozon_client.h (simulators -> adapters)",
      "daemon/runtime.cc includes daemon/cli/flags.h (runtime -> cli)",
      "daemon/runtime.cc includes bench/orders_bench.h (runtime -> bench)",
      "daemon/runtime.cc includes adapters/ozon/ozon_sim.h (runtime -> simulators)",
      "bench/orders_bench.cc includes daemon/cli/commands.h (bench -> cli)",
      "queue/sqlite_queue.cc includes crm/sink.h (queue -> crm)",
  };
  EXPECT_EQ(v, expected);

  // A file in a temporary copy of the tree: the same checker, the same answer.
  const fs::path dir = fs::temp_directory_path() / ("layering_test_" + std::to_string(::getpid()));
  fs::create_directories(dir / "adapters" / "acme");
  std::ofstream(dir / "adapters" / "acme" / "acme_adapter.cc")
      << "#include \"daemon/pipeline.h\"\n";
  std::vector<SourceFile> copy;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      copy.push_back({fs::relative(entry.path(), dir).generic_string(), ReadFile(entry.path())});
    }
  }
  fs::remove_all(dir);
  EXPECT_EQ(IncludeViolations(copy),
            std::vector<std::string>{
                "adapters/acme/acme_adapter.cc includes daemon/pipeline.h (adapters -> runtime)"});

  Allowed cyclic = kAllowed();
  EXPECT_FALSE(CycleIn(cyclic));
  cyclic["base"].insert("crm");
  std::optional<std::string> cycle = CycleIn(cyclic);
  ASSERT_TRUE(cycle);
  EXPECT_EQ(cycle->substr(0, 4), "base");
  EXPECT_NE(cycle->find("crm"), std::string::npos);

  EXPECT_EQ(ForbiddenLinks("crmhub_queue\ncrmhub_sim_ozon\ncrmhub_simkit\ncrmhub_orders_bench\n"
                           "crmhub_mapping_bench\ncrmhub_cli\ncrmhub_simulators\nfmt::fmt\n",
                           kNotInRuntime),
            (std::vector<std::string>{"crmhub_sim_ozon", "crmhub_simkit", "crmhub_orders_bench",
                                      "crmhub_mapping_bench", "crmhub_cli", "crmhub_simulators"}));
  EXPECT_TRUE(ForbiddenLinks("crmhub_runtime\ncrmhub_queue\n", kNotInRuntime).empty());
}

}  // namespace
}  // namespace crmhub
