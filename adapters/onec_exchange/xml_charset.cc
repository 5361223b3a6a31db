#include "adapters/onec_exchange/xml_charset.h"

#include <array>
#include <cstdint>

namespace crmhub::adapters::onec_exchange {
namespace {

// Unicode code points of windows-1251's bytes 0x80-0xBF (0xC0-0xFF are
// U+0410-U+044F in order); 0 marks 0x98, which has none.
constexpr std::array<uint16_t, 64> kHigh = {
    0x0402, 0x0403, 0x201A, 0x0453, 0x201E, 0x2026, 0x2020, 0x2021, 0x20AC, 0x2030, 0x0409,
    0x2039, 0x040A, 0x040C, 0x040B, 0x040F, 0x0452, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x0000, 0x2122, 0x0459, 0x203A, 0x045A, 0x045C, 0x045B, 0x045F, 0x00A0,
    0x040E, 0x045E, 0x0408, 0x00A4, 0x0490, 0x00A6, 0x00A7, 0x0401, 0x00A9, 0x0404, 0x00AB,
    0x00AC, 0x00AD, 0x00AE, 0x0407, 0x00B0, 0x00B1, 0x0406, 0x0456, 0x0491, 0x00B5, 0x00B6,
    0x00B7, 0x0451, 0x2116, 0x0454, 0x00BB, 0x0458, 0x0405, 0x0455, 0x0457};

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerCase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

// The value of the declaration's encoding pseudo-attribute and where it
// sits in `xml` ({npos, 0} when there is none).
std::pair<size_t, size_t> EncodingValue(std::string_view xml) {
  size_t start = xml.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  if (xml.substr(start, 5) != "<?xml") return {std::string_view::npos, 0};
  const size_t end = xml.find("?>", start);
  if (end == std::string_view::npos) return {std::string_view::npos, 0};
  const std::string_view decl = xml.substr(0, end);
  size_t at = decl.find("encoding", start);
  if (at == std::string_view::npos) return {std::string_view::npos, 0};
  at += 8;
  while (at < decl.size() && (decl[at] == ' ' || decl[at] == '=' || decl[at] == '\t')) ++at;
  if (at >= decl.size() || (decl[at] != '"' && decl[at] != '\'')) {
    return {std::string_view::npos, 0};
  }
  const char quote = decl[at];
  const size_t close = decl.find(quote, at + 1);
  if (close == std::string_view::npos) return {std::string_view::npos, 0};
  return {at + 1, close - at - 1};
}

}  // namespace

Result<XmlCharset> DeclaredCharset(std::string_view head) {
  const auto [at, size] = EncodingValue(head);
  if (at == std::string_view::npos) return XmlCharset::kUtf8;
  const std::string name = LowerCase(head.substr(at, size));
  if (name == "utf-8" || name == "utf8") return XmlCharset::kUtf8;
  if (name == "windows-1251" || name == "cp1251" || name == "cp-1251") {
    return XmlCharset::kWindows1251;
  }
  return Status::InvalidArgument("XML in encoding \"" + std::string(head.substr(at, size)) +
                                 "\" is not read (UTF-8 and windows-1251 are)");
}

Result<std::string> Windows1251ToUtf8(std::string_view bytes, size_t offset_base) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    uint32_t cp = b;
    if (b >= 0xC0) {
      cp = 0x0410 + (b - 0xC0);
    } else if (b >= 0x80) {
      cp = kHigh[b - 0x80];
      if (cp == 0) {
        return Status::InvalidArgument("byte 0x98 at offset " + std::to_string(offset_base + i) +
                                       " is not a windows-1251 character");
      }
    }
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

Result<std::string> XmlToUtf8(std::string_view xml) {
  Result<XmlCharset> charset = DeclaredCharset(xml.substr(0, 512));
  if (!charset.ok()) return charset.status();
  if (*charset == XmlCharset::kUtf8) return std::string(xml);
  const auto [at, size] = EncodingValue(xml.substr(0, 512));
  Result<std::string> decoded = Windows1251ToUtf8(xml.substr(at + size), at + size);
  if (!decoded.ok()) return decoded.status();
  std::string out(xml.substr(0, at));  // the declaration's start is ASCII
  out += "UTF-8";
  out += *decoded;
  return out;
}

}  // namespace crmhub::adapters::onec_exchange
