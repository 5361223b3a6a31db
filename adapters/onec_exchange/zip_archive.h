#pragma once
// Unpacking the zip archives 1C sends when the site answers init with
// zip=yes (libzip; docs/decisions.md says why a library and not our own
// inflate). An archive comes from outside: it is bounded before and while
// it is read, so a zip bomb or a crafted name costs an error, not the disk.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace crmhub::adapters::onec_exchange {

struct ZipLimits {
  int64_t max_entries = 1000;                            // entries in the archive, counted all
  uint64_t max_total_bytes = 2ull * 1024 * 1024 * 1024;  // uncompressed, of what is extracted
  uint64_t max_ratio = 200;  // uncompressed / compressed bytes of one entry (XML packs ~10-30x)
};

// True when `head` starts as a zip archive does ("PK\3\4", or "PK\5\6" for
// an empty one).
bool LooksLikeZip(std::string_view head);

// Extracts the top-level *.xml entries of the archive at `zip` into
// `dest_dir` under their own names, returning those names sorted. Entries in
// folders (1C's import_files/ images) and other files are skipped; a name
// with "..", a leading '/' or '.', or characters beyond [A-Za-z0-9._-] is
// never written (skipped when in a folder, refused at the top). Each entry is
// written to a temporary file and renamed, so a retry after a crash
// overwrites and never appends. InvalidArgument for an archive that is not
// a zip, is damaged (CRC), or passes a limit — read bytes are counted as
// they inflate, the header's sizes are not trusted.
Result<std::vector<std::string>> ExtractXmlEntries(const std::filesystem::path& zip,
                                                   const std::filesystem::path& dest_dir,
                                                   const ZipLimits& limits = {});

}  // namespace crmhub::adapters::onec_exchange
