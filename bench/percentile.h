#pragma once
// The p-quantile (0..1) of benchmark samples: the element at index
// p * size (nearest rank, no interpolation). Reorders `samples`.

#include <algorithm>
#include <cstddef>
#include <vector>

namespace crmhub::bench {

template <typename T>
double Percentile(std::vector<T>& samples, double p) {
  if (samples.empty()) return 0;
  size_t idx =
      std::min(samples.size() - 1, static_cast<size_t>(p * static_cast<double>(samples.size())));
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(idx),
                   samples.end());
  return static_cast<double>(samples[idx]);
}

}  // namespace crmhub::bench
