#pragma once
// SeededRng: the simulators' one source of randomness. Same seed, same
// sequence of draws, on every platform (SplitMix64, no std distributions,
// whose output differs between standard libraries). Thread-safe.
//
// Note that a multi-threaded simulator that draws from several threads gets
// a deterministic sequence, but which request gets which draw depends on
// arrival order; simulators that need per-entity determinism derive a child
// generator from the entity id (Fork).

#include <cstdint>
#include <mutex>

namespace crmhub::simkit {

class SeededRng {
 public:
  explicit SeededRng(uint64_t seed) : seed_(seed), state_(seed) {}
  SeededRng(const SeededRng& other);
  SeededRng& operator=(const SeededRng&) = delete;

  uint64_t Next();
  // Uniform in [0, 1).
  double Uniform();
  // Uniform integer in [lo, hi]. REQUIRES: lo <= hi.
  int64_t Int(int64_t lo, int64_t hi);
  // True with probability p.
  bool Chance(double p) { return Uniform() < p; }
  // An independent generator determined by this one's seed and `salt` only
  // (not by how many draws were made): for per-order sequences.
  SeededRng Fork(uint64_t salt) const;

  static uint64_t Mix(uint64_t x);  // SplitMix64 finaliser

 private:
  mutable std::mutex mu_;
  const uint64_t seed_;  // for Fork
  uint64_t state_;
};

}  // namespace crmhub::simkit
