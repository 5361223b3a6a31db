#pragma once
// The timeline of a simulated world, as every simulator tells it: order i
// of n is created at start + arrival * i / n, then walks through its
// system's status path, each step a seeded 1..step_max after the last, or
// ends at a random step with a cancel. What the statuses are is each
// simulator's own (its spec); when they happen is decided here once.
//
// Pure functions over a SeededRng the caller forks per order, so a seed
// gives the same world whatever is asked of it, in any order.

#include <chrono>
#include <cstddef>
#include <vector>

#include "adapters/simkit/rng.h"
#include "adapters/simkit/simulator.h"
#include "base/clock.h"

namespace crmhub::simkit {

// SimOptions::start, or the clock's Now().
SystemTime WorldStart(const SimOptions& options, const Clock& clock);

// When order `i` of `n` is created.
SystemTime CreatedAt(SystemTime start, std::chrono::milliseconds arrival, int i, int n);

// The world's orders in creation order: make(i, created, rng) for each i
// below options.orders, `rng` forked from the seed for order i alone (so
// order i is the same whatever else the world holds).
template <typename Make>
void CreateOrders(const SimOptions& options, const Clock& clock, Make make) {
  const SystemTime start = WorldStart(options, clock);
  const SeededRng root(options.seed);
  for (int i = 0; i < options.orders; ++i) {
    SeededRng rng = root.Fork(static_cast<uint64_t>(i));
    make(i, CreatedAt(start, options.arrival, i, options.orders), rng);
  }
}

// One step of a walk: when, and which status of the path (kCancelled: the
// walk was cancelled there and ends).
struct WalkStep {
  static constexpr int kCancelled = -1;
  SystemTime at;
  int status = 0;
};

// A walk from `created` through a path of `length` statuses (index 0 at
// `created`): with probability `cancel_share` it is cancelled at a step
// drawn from 1..length-1; each step is 1..max(1, step_max / grain) grains
// after the last. REQUIRES: length >= 2, grain > 0.
std::vector<WalkStep> Walk(SeededRng& rng, SystemTime created, int length,
                           std::chrono::milliseconds step_max, std::chrono::milliseconds grain,
                           double cancel_share);

// The index of the last of `steps` (ascending by `at`) reached at `now`; 0
// before the first.
template <typename Step, typename At>
size_t StepAt(const std::vector<Step>& steps, SystemTime now, At at) {
  size_t step = 0;
  while (step + 1 < steps.size() && at(steps[step + 1]) <= now) ++step;
  return step;
}

}  // namespace crmhub::simkit
