#include "adapters/onec_exchange/zip_archive.h"

#include <zip.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <memory>

namespace crmhub::adapters::onec_exchange {
namespace fs = std::filesystem;

namespace {

bool PlainName(std::string_view name) {
  if (name.empty() || name.size() > 200 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

bool EndsWithXml(std::string_view name) {
  if (name.size() < 4) return false;
  std::string tail(name.substr(name.size() - 4));
  for (char& c : tail) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return tail == ".xml";
}

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

}  // namespace

bool LooksLikeZip(std::string_view head) {
  return head.starts_with(std::string_view("PK\x03\x04", 4)) ||
         head.starts_with(std::string_view("PK\x05\x06", 4));
}

Result<std::vector<std::string>> ExtractXmlEntries(const fs::path& zip, const fs::path& dest_dir,
                                                   const ZipLimits& limits) {
  int error = 0;
  std::unique_ptr<zip_t, ZipCloser> archive(
      zip_open(zip.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &error));
  if (!archive) {
    zip_error_t e;
    zip_error_init_with_code(&e, error);
    std::string why = zip_error_strerror(&e);
    zip_error_fini(&e);
    return Status::InvalidArgument("zip: " + zip.filename().string() + ": " + why);
  }
  const zip_int64_t count = zip_get_num_entries(archive.get(), 0);
  if (count < 0 || count > limits.max_entries) {
    return Status::InvalidArgument("zip: " + std::to_string(count) + " entries, more than " +
                                   std::to_string(limits.max_entries));
  }
  std::error_code ec;
  fs::create_directories(dest_dir, ec);
  if (ec) return Status::Unavailable("zip: " + dest_dir.string() + ": " + ec.message());
  std::vector<std::string> names;
  uint64_t total = 0;
  std::array<char, 64 * 1024> buf;
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    if (zip_stat_index(archive.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0 ||
        (st.valid & ZIP_STAT_NAME) == 0) {
      return Status::InvalidArgument("zip: entry " + std::to_string(i) + " is unreadable");
    }
    const std::string_view name = st.name;
    if (name.find('/') != std::string_view::npos || name.find('\\') != std::string_view::npos) {
      continue;  // in a folder (1C's images): not ours to import
    }
    if (!EndsWithXml(name)) continue;
    if (!PlainName(name)) {
      return Status::InvalidArgument("zip: entry name \"" + std::string(name) +
                                     "\" is not a plain file name");
    }
    const uint64_t packed = (st.valid & ZIP_STAT_COMP_SIZE) ? st.comp_size : 0;
    std::unique_ptr<zip_file_t, ZipFileCloser> in(
        zip_fopen_index(archive.get(), static_cast<zip_uint64_t>(i), 0));
    if (!in) {
      return Status::InvalidArgument("zip: " + std::string(name) + ": " +
                                     zip_strerror(archive.get()));
    }
    const fs::path target = dest_dir / std::string(name);
    const fs::path temp = target.string() + ".tmp";
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    uint64_t written = 0;
    for (;;) {
      const zip_int64_t n = zip_fread(in.get(), buf.data(), buf.size());
      if (n < 0) {
        return Status::InvalidArgument("zip: " + std::string(name) +
                                       " is damaged: " + zip_file_strerror(in.get()));
      }
      if (n == 0) break;
      written += static_cast<uint64_t>(n);
      total += static_cast<uint64_t>(n);
      if (total > limits.max_total_bytes) {
        out.close();
        fs::remove(temp, ec);
        return Status::InvalidArgument("zip: more than " + std::to_string(limits.max_total_bytes) +
                                       " bytes uncompressed");
      }
      if (written > 1024 * 1024 && written > std::max<uint64_t>(packed, 1) * limits.max_ratio) {
        out.close();
        fs::remove(temp, ec);
        return Status::InvalidArgument("zip: " + std::string(name) + " inflates more than " +
                                       std::to_string(limits.max_ratio) +
                                       " times its packed size (a zip bomb?)");
      }
      out.write(buf.data(), n);
    }
    out.flush();
    if (!out) return Status::Unavailable("zip: writing " + temp.string());
    out.close();
    fs::rename(temp, target, ec);
    if (ec) return Status::Unavailable("zip: " + ec.message());
    names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace crmhub::adapters::onec_exchange
