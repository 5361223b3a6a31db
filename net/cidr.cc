#include "net/cidr.h"

#include <arpa/inet.h>

#include <cstring>
#include <optional>

namespace crmhub::net {

namespace {

struct Ip {
  bool v4 = true;
  std::array<uint8_t, 16> bytes{};
};

// Parses an IPv4 or IPv6 literal; an IPv4-mapped IPv6 address becomes IPv4.
std::optional<Ip> ParseIp(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  std::string s(text);
  Ip ip;
  if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) return ip;
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) != 1) return std::nullopt;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(ip.bytes.data(), kMapped, 12) == 0) {
    std::memmove(ip.bytes.data(), ip.bytes.data() + 12, 4);
    std::fill(ip.bytes.begin() + 4, ip.bytes.end(), 0);
    return ip;
  }
  ip.v4 = false;
  return ip;
}

bool PrefixEquals(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int prefix) {
  int full = prefix / 8;
  if (std::memcmp(a.data(), b.data(), full) != 0) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

Result<CidrRange> CidrRange::Parse(std::string_view text) {
  size_t slash = text.find('/');
  std::string_view addr = text.substr(0, slash);
  bool mapped_v6 = addr.find(':') != std::string_view::npos;
  std::optional<Ip> ip = ParseIp(addr);
  if (!ip) return Status::InvalidArgument("not an IP range: '" + std::string(text) + "'");
  int max_prefix = ip->v4 ? 32 : 128;
  int prefix = max_prefix;
  if (slash != std::string_view::npos) {
    std::string_view p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3) {
      return Status::InvalidArgument("bad prefix length in '" + std::string(text) + "'");
    }
    prefix = 0;
    for (char c : p) {
      if (c < '0' || c > '9') {
        return Status::InvalidArgument("bad prefix length in '" + std::string(text) + "'");
      }
      prefix = prefix * 10 + (c - '0');
    }
    // "::ffff:10.0.0.0/104" is written against 128 bits; as IPv4 it is /8.
    if (ip->v4 && mapped_v6) {
      if (prefix < 96 || prefix > 128) {
        return Status::InvalidArgument("bad prefix length in '" + std::string(text) + "'");
      }
      prefix -= 96;
    }
    if (prefix > max_prefix) {
      return Status::InvalidArgument("bad prefix length in '" + std::string(text) + "'");
    }
  }
  CidrRange r;
  r.v4_ = ip->v4;
  r.prefix_ = prefix;
  // Clear host bits.
  for (int i = 0; i < 16; ++i) {
    int bit = i * 8;
    if (bit >= prefix) {
      r.bytes_[i] = 0;
    } else if (bit + 8 > prefix) {
      r.bytes_[i] = ip->bytes[i] & static_cast<uint8_t>(0xff << (8 - (prefix - bit)));
    } else {
      r.bytes_[i] = ip->bytes[i];
    }
  }
  return r;
}

bool CidrRange::Contains(std::string_view ip_text) const {
  std::optional<Ip> ip = ParseIp(ip_text);
  if (!ip || ip->v4 != v4_) return false;
  return PrefixEquals(ip->bytes, bytes_, prefix_);
}

std::string CidrRange::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v4_ ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(prefix_);
}

Result<CidrList> CidrList::Parse(const std::vector<std::string>& entries) {
  CidrList list;
  for (const auto& e : entries) {
    Result<CidrRange> r = CidrRange::Parse(e);
    if (!r.ok()) return r.status();
    list.ranges_.push_back(*r);
  }
  return list;
}

bool CidrList::Contains(std::string_view ip) const {
  for (const auto& r : ranges_) {
    if (r.Contains(ip)) return true;
  }
  return false;
}

}  // namespace crmhub::net
