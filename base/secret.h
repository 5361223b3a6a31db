#pragma once
// Secret: a credential held in memory that cannot be logged by accident.
//
// It prints as "***" through every formatter (fmt/spdlog, iostreams, JSON);
// the value is reached only through Reveal(), which makes each use visible in
// review. Comparison is constant time.

#include <fmt/format.h>

#include <ostream>
#include <string>
#include <string_view>

namespace crmhub {

// Compares in time that depends only on the lengths, never on where the
// first differing byte is (so timing does not leak a token prefix).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;
  Secret(Secret&&) noexcept = default;
  Secret& operator=(Secret&&) noexcept = default;
  ~Secret();  // wipes the bytes

  const std::string& Reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  // Constant-time comparison with a presented credential.
  bool Matches(std::string_view presented) const { return ConstantTimeEquals(value_, presented); }

  friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "***"; }

 private:
  std::string value_;
};

}  // namespace crmhub

template <>
struct fmt::formatter<crmhub::Secret> : fmt::formatter<std::string_view> {
  template <typename Ctx>
  auto format(const crmhub::Secret&, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format("***", ctx);
  }
};
