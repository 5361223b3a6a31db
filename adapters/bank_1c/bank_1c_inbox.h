#pragma once
// The bank-1c adapter's three folders: files wait in the inbox, go to
// done/ once every document of theirs is durable in the queue, or to failed/
// with the reason when they cannot be read. Plain file operations, no
// knowledge of the daemon (bank_1c_adapter.h wires them into a pull).
//
// Names:
//   inbox/<any name>             waiting; names starting with '.' are skipped
//                                (an upload or a copy in progress)
//   done/<sha16>_<name>          imported; <sha16> is the first 16 hex digits
//                                of the content's SHA-256, so a second file
//                                with the same bytes is known as imported
//   failed/<name>                refused, beside failed/<name>.reason.txt
//                                (the problems, one per line, with line numbers)
// A name taken in done/ or failed/ gets "-2", "-3", ... before moving.
//
// Thread-safety: none; the adapter serialises calls (the pull loop is one
// thread, uploads write under their own temporary names).

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"

namespace crmhub::adapters::bank_1c {

struct InboxFile {
  std::filesystem::path path;
  std::string name;
  std::string bytes;
  std::string sha256;  // hex
};

class Inbox {
 public:
  // `settle`: a file modified more recently than this is left for later (a
  // copy still being written is not read as a truncated file).
  Inbox(std::filesystem::path inbox, std::filesystem::path done, std::filesystem::path failed,
        Duration settle, const Clock& clock);

  // Creates the folders if missing.
  Status Prepare() const;

  // The oldest settled file (by modification time, then name), read whole;
  // nullopt when there is none.
  Result<std::optional<InboxFile>> Next() const;

  // inbox/`name` when it is still there with content hash `sha256`.
  std::optional<std::filesystem::path> Find(std::string_view name, std::string_view sha256) const;

  // True when done/ holds a file with this content.
  bool Imported(std::string_view sha256) const;

  // Moves `path` (an inbox file with content `sha256`) to done/.
  Status MarkDone(const std::filesystem::path& path, std::string_view sha256) const;
  // Moves `path` to failed/ and writes its reason beside it.
  Status MarkFailed(const std::filesystem::path& path, std::string_view reason) const;
  // Writes `bytes` durably into the inbox (a temporary name, fsync, rename,
  // fsync of the folder) as "<prefix><sha16>.txt" and returns its name.
  Result<std::string> Store(std::string_view bytes, std::string_view prefix) const;
  // Writes `bytes` and `reason` straight into failed/ as `name`.
  Status StoreFailed(std::string_view bytes, std::string_view name, std::string_view reason) const;

  const std::filesystem::path& inbox() const { return inbox_; }

 private:
  const std::filesystem::path inbox_;
  const std::filesystem::path done_;
  const std::filesystem::path failed_;
  const Duration settle_;
  const Clock& clock_;
};

}  // namespace crmhub::adapters::bank_1c
