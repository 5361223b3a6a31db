// crmhub map: a dry run of a mapping rules file on one record, for people
// writing rules (docs/mapping.md). Prints the canonical entities or the error.
// Exit codes: 0 mapped (or skipped), 1 mapping error, 2 usage or rules-file error.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "adapters/bank_1c/statement_parser.h"
#include "daemon/cli/commands.h"
#include "daemon/cli/flags.h"
#include "mapping/bench/mapping_bench.h"
#include "mapping/model/model.h"
#include "mapping/rules/rule_set.h"

namespace crmhub::cli {
namespace {

bool ReadAll(const std::string& path, std::string& out) {
  if (path == "-") {
    out.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buf;
  buf << in.rdbuf();
  out = buf.str();
  return true;
}

}  // namespace

int MapCommand(const Args& args) {
  std::string rules_path;
  std::string input_path;
  std::string source;
  std::string input_format = "json";
  int64_t received_ms = 0;
  bool pretty = false;
  FlagParser flags(
      "crmhub map --rules FILE --input RECORD.json [--source ID] [--pretty]",
      "Map one record with a rules file and print the canonical entities as JSON, one per line "
      "(or an indented array with --pretty). Nothing is stored. Exit 1 on a mapping error, 2 on a "
      "rules-file error. A skipped record prints nothing and exits 0.");
  flags.AddString("--rules", &rules_path, "FILE", "mapping rules file (TOML, docs/mapping.md)");
  flags.AddString("--input", &input_path, "FILE", "the raw record: a JSON object ('-' = stdin)");
  flags.AddString("--source", &source, "ID",
                  "the adapter id to stamp as source (default: the rules' name)");
  flags.AddString("--input-format", &input_format, "FORMAT",
                  "json (default), or 1c-bank: a 1CClientBankExchange file whose every document "
                  "is mapped as one record");
  flags.AddInt("--received-ms", &received_ms, "MS",
               "the receive time (Unix ms) the rules see as received_ms (default 0)");
  flags.AddBool("--pretty", &pretty, "print one indented JSON array instead of JSON lines");
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;
  if (rules_path.empty() || input_path.empty()) {
    std::fprintf(stderr, "error: --rules and --input are required\n\n%s", flags.Help().c_str());
    return 2;
  }
  if (input_format != "json" && input_format != "1c-bank") {
    std::fprintf(stderr, "error: --input-format must be json or 1c-bank\n");
    return 2;
  }
  auto rules = mapping::LoadRules(rules_path);
  if (!rules.ok()) {
    std::fprintf(stderr, "error: %s\n", rules.status().message().c_str());
    return 2;
  }
  std::string payload;
  if (!ReadAll(input_path, payload)) {
    std::fprintf(stderr, "error: cannot read %s\n", input_path.c_str());
    return 2;
  }
  if (source.empty()) source = rules->name();
  mapping::ApplyContext ctx{source, nullptr, received_ms};

  std::vector<model::Entity> entities;
  if (input_format == "json") {
    auto mapped = rules->ApplyText(payload, ctx);
    if (!mapped.ok()) {
      std::fprintf(stderr, "error: %s\n", mapped.status().message().c_str());
      return 1;
    }
    entities = std::move(*mapped);
  } else {
    auto statement = adapters::bank_1c::ParseStatement(payload);
    if (!statement.ok()) {
      std::fprintf(stderr, "error: %s\n", statement.status().message().c_str());
      return 1;
    }
    for (size_t i = 0; i < statement->documents.size(); ++i) {
      auto mapped = rules->Apply(statement->documents[i], ctx);
      if (!mapped.ok()) {
        std::fprintf(stderr, "error: document %zu: %s\n", i + 1, mapped.status().message().c_str());
        return 1;
      }
      for (auto& e : *mapped) entities.push_back(std::move(e));
    }
  }
  if (pretty) {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& e : entities) all.push_back(model::ToJson(e));
    std::printf("%s\n", all.dump(2).c_str());
  } else {
    for (const auto& e : entities) std::printf("%s\n", model::ToJson(e).dump().c_str());
  }
  return 0;
}

int MapBenchCommand(const Args& args) {
  mapping::bench::MappingBenchOptions o;
  int64_t records = o.records;
  int64_t threads = o.threads;
  bool json = false;
  FlagParser flags(
      "crmhub bench mapping [--records N] [--threads T] [--rules FILE --input RECORD.json] "
      "[--json]",
      "Mapping throughput: T threads map N raw JSON records (default: a marketplace order with 3 "
      "lines -> order + contact + deal) through RuleSet::ApplyText, as delivery workers do. "
      "Prints records/s.");
  flags.AddInt("--records", &records, "N", "records to map in total (default 200000)");
  flags.AddInt("--threads", &threads, "T", "mapping threads (default 2)");
  flags.AddString("--rules", &o.rules_path, "FILE",
                  "rules file instead of the built-in order rules");
  flags.AddString("--input", &o.record_path, "FILE", "record instead of the built-in order");
  flags.AddBool("--json", &json, "print one JSON line");
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;
  if (records <= 0 || threads <= 0 || threads > 256) {
    std::fprintf(stderr, "error: --records and --threads must be positive (threads <= 256)\n");
    return 2;
  }
  o.records = records;
  o.threads = static_cast<int>(threads);
  auto r = mapping::bench::RunMappingBench(o);
  if (!r.ok()) {
    std::fprintf(stderr, "error: %s\n", r.status().message().c_str());
    return 1;
  }
  std::printf("%s\n", mapping::bench::FormatMappingBench(o, *r, json).c_str());
  return 0;
}

}  // namespace crmhub::cli
