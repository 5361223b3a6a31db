#include "adapters/simkit/world.h"

#include <algorithm>

namespace crmhub::simkit {

SystemTime WorldStart(const SimOptions& options, const Clock& clock) {
  return options.start.value_or(clock.Now());
}

SystemTime CreatedAt(SystemTime start, std::chrono::milliseconds arrival, int i, int n) {
  return start + arrival * i / std::max(1, n);
}

std::vector<WalkStep> Walk(SeededRng& rng, SystemTime created, int length,
                           std::chrono::milliseconds step_max, std::chrono::milliseconds grain,
                           double cancel_share) {
  std::vector<WalkStep> steps = {{created, 0}};
  // Drawn before the steps, so that a share of 0 leaves the step draws as
  // they are.
  const int64_t cancel_at = rng.Chance(cancel_share) ? rng.Int(1, length - 1) : -1;
  const int64_t grains = std::max<int64_t>(1, step_max / grain);
  SystemTime t = created;
  for (int s = 1; s < length; ++s) {
    t += grain * rng.Int(1, grains);
    if (s == cancel_at) {
      steps.push_back({t, WalkStep::kCancelled});
      break;
    }
    steps.push_back({t, s});
  }
  return steps;
}

}  // namespace crmhub::simkit
