#pragma once
// FaultSpec: which faults a marketplace simulator injects, and how often.
//
// Grammar of the `--faults` flag (shared by every `crmhub sim <system>`):
//
//   spec  := "" | "none" | entry ("," entry)*
//   entry := name "=" probability
//   name  := "429" | "500" | "503" | "timeout" | "slow" | "dup" | "malformed"
//   probability := a decimal number in [0, 1] ("0.1", "0.05", "1", ".5")
//
// Each request draws at most one fault: the probabilities are independent
// slices of [0, 1), so their sum must not exceed 1. Spaces around tokens are
// allowed; a name may appear once. Meanings:
//   429        answer 429 with the system's throttling headers and body
//   500 / 503  answer a server error in the system's error shape
//   timeout    never answer (the response is held until the client gives up)
//   slow       answer correctly, but only after FaultSpec::slow_delay
//   dup        duplicated data: a page repeats records already delivered
//              (the simulator decides what that means for each endpoint)
//   malformed  200 with a truncated, unparseable JSON body
// Example: "429=0.1,500=0.05,timeout=0.02,slow=0.05,dup=0.1,malformed=0.01".

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"

namespace crmhub::simkit {

enum class Fault { kNone, k429, k500, k503, kTimeout, kSlow, kDup, kMalformed };
std::string_view FaultName(Fault fault);  // "none", "429", ..., "malformed"

struct FaultSpec {
  double p429 = 0;
  double p500 = 0;
  double p503 = 0;
  double timeout = 0;
  double slow = 0;
  double dup = 0;
  double malformed = 0;
  // How long a "slow" answer is held back.
  std::chrono::milliseconds slow_delay{std::chrono::milliseconds(1500)};
  // How long a "timeout" request is held before the simulator gives up on it
  // (the client is expected to time out well before).
  std::chrono::milliseconds timeout_hold{std::chrono::seconds(120)};

  double Total() const { return p429 + p500 + p503 + timeout + slow + dup + malformed; }
  bool empty() const { return Total() == 0; }
  // Maps a uniform draw u in [0, 1) to a fault (slices in grammar order).
  Fault Pick(double u) const;
  // Canonical text form, parseable by ParseFaultSpec ("none" when empty).
  std::string ToString() const;
};

// Parses the grammar above. InvalidArgument with the offending token and the
// accepted names on garbage.
Result<FaultSpec> ParseFaultSpec(std::string_view text);

// A probability written as a strict decimal from 0 to 1 ("0.05", ".5",
// "1"): digits with at most one '.', nothing else. False otherwise.
bool ParseProbability(std::string_view text, double* out);

}  // namespace crmhub::simkit
