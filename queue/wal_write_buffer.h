#pragma once
// A SQLite VFS over another that gathers a commit's WAL writes into a few
// large writes. SQLite writes each WAL frame as two calls (its 24-byte header,
// then the page), so a commit of 100 pages is 200 pwrite calls, and on a VM
// every system call is expensive: in `crmhub bench queue` the queue writer
// spent about half its time in those calls (docs/performance.md).
//
// What it keeps of SQLite's contract:
// - A commit is in the file when SQLite's write of it returns: the buffer is
//   written out with the page of the commit frame (the frame whose header
//   carries the database size), and that write's error is the commit's. The
//   writer publishes a commit (the wal-index header) only afterwards, so no
//   other connection can see a frame that is not in the file.
// - Before the writing connection reads, truncates, sizes or closes the WAL,
//   or syncs it (SQLite syncs a new WAL header before its first frame), what
//   it gathered is written. A write that does not continue the buffer, or
//   that would grow it past 1 MiB, writes it out first.
// - The buffer belongs to the connection's thread (a connection is used by
//   one thread at a time). The one call from another thread, the queue's
//   flusher syncing the writer's WAL, does not touch it, and needs nothing
//   from it: every committed frame is already in the file.
// Frames gathered but not committed (a transaction bigger than the page
// cache spills) are lost at a crash, as they would be anyway: nothing
// counted them durable.

#include <string>

#include "base/status.h"

namespace crmhub::queue::internal {

// Registers (once per base VFS object) and returns the name of the gathering
// VFS over `base_vfs` ("" = SQLite's default). Registered VFSes stay for the
// life of the process, as SQLite's own do.
Result<std::string> WalWriteBufferVfs(const std::string& base_vfs);

}  // namespace crmhub::queue::internal
