#pragma once
// The mapping micro-benchmark behind `crmhub bench mapping`: a marketplace
// order (3 lines) mapped from raw JSON text to order + contact + deal with
// the same code path the delivery workers use (RuleSet::ApplyText).

#include <cstdint>
#include <string>

#include "base/status.h"

namespace crmhub::mapping::bench {

struct MappingBenchOptions {
  int64_t records = 200000;  // per run, split over the threads
  int threads = 2;
  std::string rules_path;   // empty: the built-in marketplace order rules
  std::string record_path;  // empty: the built-in order record
};

struct MappingBenchResult {
  int64_t records = 0;
  int64_t entities = 0;
  double seconds = 0;
  double records_per_second = 0;
};

Result<MappingBenchResult> RunMappingBench(const MappingBenchOptions& options);
std::string FormatMappingBench(const MappingBenchOptions& options, const MappingBenchResult& r,
                               bool json);

}  // namespace crmhub::mapping::bench
