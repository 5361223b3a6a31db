#pragma once
// IP allow-lists for webhook intake: "127.0.0.0/8", "::1/128", "10.1.2.3"
// (a single host). IPv4-mapped IPv6 addresses ("::ffff:10.0.0.1") match
// IPv4 ranges and vice versa, so a dual-stack listener needs no extra rules.
//
// Values are immutable after Parse; Contains is thread-safe.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace crmhub::net {

class CidrRange {
 public:
  // Accepts "addr/prefix" or a bare address (a /32 or /128). Host bits below
  // the prefix are ignored ("10.1.2.3/8" is 10.0.0.0/8), as providers'
  // published lists sometimes write them that way.
  static Result<CidrRange> Parse(std::string_view text);

  // False for anything that is not a valid IP literal.
  bool Contains(std::string_view ip) const;

  // Canonical form: "10.0.0.0/8", "2001:db8::/32".
  std::string ToString() const;

 private:
  bool v4_ = true;
  std::array<uint8_t, 16> bytes_{};  // the first 4 for IPv4
  int prefix_ = 0;
};

class CidrList {
 public:
  // An error names the first entry that does not parse.
  static Result<CidrList> Parse(const std::vector<std::string>& entries);
  // True if any range contains ip. An empty list contains nothing.
  bool Contains(std::string_view ip) const;
  bool empty() const { return ranges_.empty(); }
  size_t size() const { return ranges_.size(); }

 private:
  std::vector<CidrRange> ranges_;
};

}  // namespace crmhub::net
