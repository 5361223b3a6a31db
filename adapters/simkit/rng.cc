#include "adapters/simkit/rng.h"

namespace crmhub::simkit {

uint64_t SeededRng::Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t SeededRng::Next() {
  std::lock_guard lock(mu_);
  state_ += 0x9e3779b97f4a7c15ULL;
  return Mix(state_);
}

double SeededRng::Uniform() {
  return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0);  // 2^53
}

int64_t SeededRng::Int(int64_t lo, int64_t hi) {
  uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  if (span == 0) return static_cast<int64_t>(Next());  // full range
  return lo + static_cast<int64_t>(Next() % span);
}

SeededRng::SeededRng(const SeededRng& other) : seed_(other.seed_) {
  std::lock_guard lock(other.mu_);
  state_ = other.state_;
}

SeededRng SeededRng::Fork(uint64_t salt) const {
  return SeededRng(Mix(seed_ ^ Mix(salt + 0x632be59bd9b4e019ULL)));
}

}  // namespace crmhub::simkit
