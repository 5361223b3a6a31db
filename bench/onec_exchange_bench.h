#pragma once
// The CommerceML exchange benchmark behind `crmhub bench onec-exchange`
// (issue 20: "a catalogue of 100,000 goods and 300,000 offers goes through
// in one exchange within the daemon's memory budget; a benchmark says how
// fast").
//
// It writes a generated full catalogue (import0_1.xml: N goods with a
// name, article, unit, barcode, description, two properties and a group;
// offers0_1.xml: K offers per good, each with two prices and stock on two
// warehouses) to a scratch directory, writes a config of one onec-exchange
// adapter (the shipped rules config/mappings/onec-commerceml.toml, the
// embedded CRM store), runs daemon::Runtime on it as `crmhub run` would, and
// plays 1C over loopback HTTP: checkauth, init, each file in chunks of
// file_limit (8 MiB), then import of each, repeated every 100 ms while the
// daemon answers "progress". Three figures: the upload (checkauth to the
// last chunk answered), the exchange as 1C sees it (checkauth to the last
// "success"), and end to end (to crm.db holding every record: one applied
// event per good and per offer). The run fails unless crm.db ends with
// exactly N + N*K applied events and N products.
//
// Peak RSS is the whole process (the daemon and the 1C client); the files
// are generated to disk and sent a chunk at a time, so the figure is the
// daemon's, plus one chunk.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "base/status.h"

namespace crmhub::bench {

struct OnecExchangeBenchOptions {
  int64_t goods = 100000;
  int64_t offers_per_good = 3;
  // Empty: a fresh directory under /var/tmp, removed afterwards.
  std::filesystem::path data_dir;
  // Empty: config/mappings/onec-commerceml.toml from the working directory
  // or the source tree next to the binary.
  std::filesystem::path rules;
  std::chrono::milliseconds stall_timeout{std::chrono::seconds(120)};
};

struct OnecExchangeBenchResult {
  int64_t goods = 0;
  int64_t offers = 0;
  int64_t import_bytes = 0;
  int64_t offers_bytes = 0;
  double upload_seconds = 0;      // checkauth to the last chunk's "success"
  double exchange_seconds = 0;    // checkauth to the last import's "success"
  double end_to_end_seconds = 0;  // checkauth to crm.db holding every record
  double records_per_s = 0;       // (goods + offers) / end_to_end_seconds
  int64_t progress_answers = 0;   // import requests answered "progress"
  int64_t applied_events = 0;
  int64_t products = 0;
  int64_t peak_rss_bytes = 0;
  double cpu_seconds = 0;
};

Result<OnecExchangeBenchResult> RunOnecExchangeBench(const OnecExchangeBenchOptions& options);

std::string FormatOnecExchangeBenchText(const OnecExchangeBenchOptions& options,
                                        const OnecExchangeBenchResult& r);
std::string FormatOnecExchangeBenchJson(const OnecExchangeBenchOptions& options,
                                        const OnecExchangeBenchResult& r);

}  // namespace crmhub::bench
