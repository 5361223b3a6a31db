#include "queue/wal_write_buffer.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <thread>

namespace crmhub::queue::internal {
namespace {

constexpr size_t kBufferBytes = 1 << 20;  // gathered before it is written out anyway
// The unix VFS writes less than 128 KiB per call (seekAndWriteFd masks the
// length with 0x1ffff): larger writes go out in pieces of this size.
constexpr sqlite3_int64 kPieceBytes = 64 * 1024;
constexpr int kFrameHeaderBytes = 24;  // WAL_FRAME_HDRSIZE

struct GatherFile {
  sqlite3_file base;         // pMethods: kMethods once open
  sqlite3_file* inner;       // the base VFS's file, right after this struct
  bool wal = false;          // only WAL files gather
  bool commit_next = false;  // the last write was a commit frame's header
  std::string buffer;        // gathered bytes, from buffer_offset on
  sqlite3_int64 buffer_offset = 0;
  std::atomic<std::thread::id> owner{};  // the thread whose bytes are gathered
};

GatherFile* G(sqlite3_file* file) { return reinterpret_cast<GatherFile*>(file); }
sqlite3_vfs* BaseOf(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }
const sqlite3_io_methods* Inner(GatherFile* f) { return f->inner->pMethods; }

bool Mine(GatherFile* f) { return f->owner.load() == std::this_thread::get_id(); }

// Writes out what was gathered; the buffer is empty afterwards, also after
// an error (SQLite rolls the transaction back and writes its frames again).
int WriteOut(GatherFile* f) {
  if (f->buffer.empty()) return SQLITE_OK;
  const char* data = f->buffer.data();
  const auto total = static_cast<sqlite3_int64>(f->buffer.size());
  int rc = SQLITE_OK;
  for (sqlite3_int64 done = 0; done < total && rc == SQLITE_OK;) {
    const int n = static_cast<int>(std::min(kPieceBytes, total - done));
    rc = Inner(f)->xWrite(f->inner, data + done, n, f->buffer_offset + done);
    done += n;
  }
  f->buffer.clear();
  f->owner.store(std::thread::id{});
  return rc;
}

// For xSync, the one call another thread makes on a connection's WAL (the
// queue's flusher): it leaves the writer's buffer alone.
int WriteOutIfMine(GatherFile* f) { return Mine(f) ? WriteOut(f) : SQLITE_OK; }

bool IsCommitFrameHeader(const void* data, int amt) {
  if (amt != kFrameHeaderBytes) return false;
  const auto* p = static_cast<const unsigned char*>(data);
  // Bytes 4..7: the database size in pages after a commit, else zero.
  return (p[4] | p[5] | p[6] | p[7]) != 0;
}

int Close(sqlite3_file* file) {
  GatherFile* f = G(file);
  const int rc = WriteOut(f);
  const int closed = Inner(f) != nullptr ? Inner(f)->xClose(f->inner) : SQLITE_OK;
  f->~GatherFile();
  return rc != SQLITE_OK ? rc : closed;
}

int Read(sqlite3_file* file, void* out, int amt, sqlite3_int64 offset) {
  GatherFile* f = G(file);
  if (int rc = WriteOut(f); rc != SQLITE_OK) return rc;
  return Inner(f)->xRead(f->inner, out, amt, offset);
}

int Write(sqlite3_file* file, const void* data, int amt, sqlite3_int64 offset) {
  GatherFile* f = G(file);
  if (!f->wal) return Inner(f)->xWrite(f->inner, data, amt, offset);
  std::string& b = f->buffer;
  if (!b.empty()) {
    const bool continues = offset == f->buffer_offset + static_cast<sqlite3_int64>(b.size());
    if (!continues || b.size() + static_cast<size_t>(amt) > kBufferBytes) {
      if (int rc = WriteOut(f); rc != SQLITE_OK) return rc;
    }
  }
  if (b.empty()) {
    f->buffer_offset = offset;
    f->owner.store(std::this_thread::get_id());
  }
  b.append(static_cast<const char*>(data), static_cast<size_t>(amt));
  if (f->commit_next) {  // the commit frame's page: the commit goes out now
    f->commit_next = false;
    return WriteOut(f);
  }
  f->commit_next = IsCommitFrameHeader(data, amt);
  return SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  GatherFile* f = G(file);
  if (int rc = WriteOut(f); rc != SQLITE_OK) return rc;
  return Inner(f)->xTruncate(f->inner, size);
}

int Sync(sqlite3_file* file, int flags) {
  GatherFile* f = G(file);
  if (int rc = WriteOutIfMine(f); rc != SQLITE_OK) return rc;
  return Inner(f)->xSync(f->inner, flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  GatherFile* f = G(file);
  if (int rc = WriteOut(f); rc != SQLITE_OK) return rc;
  return Inner(f)->xFileSize(f->inner, size);
}

int Lock(sqlite3_file* file, int level) { return Inner(G(file))->xLock(G(file)->inner, level); }
int Unlock(sqlite3_file* file, int level) { return Inner(G(file))->xUnlock(G(file)->inner, level); }
int CheckReservedLock(sqlite3_file* file, int* out) {
  return Inner(G(file))->xCheckReservedLock(G(file)->inner, out);
}
int FileControl(sqlite3_file* file, int op, void* arg) {
  return Inner(G(file))->xFileControl(G(file)->inner, op, arg);
}
int SectorSize(sqlite3_file* file) { return Inner(G(file))->xSectorSize(G(file)->inner); }
int DeviceCharacteristics(sqlite3_file* file) {
  return Inner(G(file))->xDeviceCharacteristics(G(file)->inner);
}
int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  return Inner(G(file))->xShmMap(G(file)->inner, region, size, extend, out);
}
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  return Inner(G(file))->xShmLock(G(file)->inner, offset, n, flags);
}
void ShmBarrier(sqlite3_file* file) { Inner(G(file))->xShmBarrier(G(file)->inner); }
int ShmUnmap(sqlite3_file* file, int delete_flag) {
  return Inner(G(file))->xShmUnmap(G(file)->inner, delete_flag);
}
// Version 2 (shared memory, no xFetch): SQLite does no memory-mapped I/O on
// these files and reads with xRead, which writes the buffer out first.
const sqlite3_io_methods kMethods = {
    2,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    nullptr,
    nullptr,
};

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  sqlite3_vfs* base = BaseOf(vfs);
  auto* f = new (file) GatherFile();
  f->base.pMethods = nullptr;  // SQLite calls no method of a file that failed to open
  f->inner = reinterpret_cast<sqlite3_file*>(f + 1);
  f->inner->pMethods = nullptr;
  f->wal = (flags & SQLITE_OPEN_WAL) != 0;
  const int rc = base->xOpen(base, name, f->inner, flags, out_flags);
  if (rc == SQLITE_OK && f->inner->pMethods->iVersion < 2) {
    // WAL needs shared memory (version 2 of the file methods).
    f->inner->pMethods->xClose(f->inner);
    f->~GatherFile();
    return SQLITE_CANTOPEN;
  }
  if (rc != SQLITE_OK) {
    if (f->inner->pMethods != nullptr) f->inner->pMethods->xClose(f->inner);
    f->~GatherFile();
    return rc;
  }
  f->base.pMethods = &kMethods;
  return SQLITE_OK;
}

int Delete(sqlite3_vfs* v, const char* n, int sync_dir) {
  return BaseOf(v)->xDelete(BaseOf(v), n, sync_dir);
}
int Access(sqlite3_vfs* v, const char* n, int flags, int* out) {
  return BaseOf(v)->xAccess(BaseOf(v), n, flags, out);
}
int FullPathname(sqlite3_vfs* v, const char* n, int size, char* out) {
  return BaseOf(v)->xFullPathname(BaseOf(v), n, size, out);
}
void* DlOpen(sqlite3_vfs* v, const char* n) { return BaseOf(v)->xDlOpen(BaseOf(v), n); }
void DlError(sqlite3_vfs* v, int size, char* out) { BaseOf(v)->xDlError(BaseOf(v), size, out); }
void (*DlSym(sqlite3_vfs* v, void* handle, const char* symbol))(void) {
  return BaseOf(v)->xDlSym(BaseOf(v), handle, symbol);
}
void DlClose(sqlite3_vfs* v, void* handle) { BaseOf(v)->xDlClose(BaseOf(v), handle); }
int Randomness(sqlite3_vfs* v, int size, char* out) {
  return BaseOf(v)->xRandomness(BaseOf(v), size, out);
}
int Sleep(sqlite3_vfs* v, int micros) { return BaseOf(v)->xSleep(BaseOf(v), micros); }
int CurrentTime(sqlite3_vfs* v, double* out) { return BaseOf(v)->xCurrentTime(BaseOf(v), out); }
int GetLastError(sqlite3_vfs* v, int size, char* out) {
  return BaseOf(v)->xGetLastError(BaseOf(v), size, out);
}
int CurrentTimeInt64(sqlite3_vfs* v, sqlite3_int64* out) {
  return BaseOf(v)->xCurrentTimeInt64(BaseOf(v), out);
}

}  // namespace

Result<std::string> WalWriteBufferVfs(const std::string& base_vfs) {
  struct Made {
    std::string name;
    sqlite3_vfs vfs;
  };
  // Registered VFSes live as long as the process (SQLite keeps pointers).
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Made>> made;
  std::lock_guard lock(mu);
  sqlite3_vfs* base = sqlite3_vfs_find(base_vfs.empty() ? nullptr : base_vfs.c_str());
  if (base == nullptr) return Status::InvalidArgument("queue: no SQLite VFS named " + base_vfs);
  // Named after the base object, not only its name: a test may register a
  // new VFS under an old name, and this one must forward to the new object.
  char address[2 * sizeof(void*) + 3];
  std::snprintf(address, sizeof address, "%p", static_cast<void*>(base));
  const std::string name = std::string("crmhub-gather-") + base->zName + "-" + address;
  if (made.count(name) > 0) return name;
  if (base->iVersion < 2) {
    return Status::InvalidArgument(std::string("queue: SQLite VFS ") + base->zName +
                                   " is too old to wrap (version 1)");
  }
  auto m = std::make_unique<Made>();
  m->name = name;
  sqlite3_vfs& vfs = m->vfs;
  vfs = sqlite3_vfs{};
  vfs.iVersion = 2;
  vfs.szOsFile = static_cast<int>(sizeof(GatherFile)) + base->szOsFile;
  vfs.mxPathname = base->mxPathname;
  vfs.zName = m->name.c_str();
  vfs.pAppData = base;
  vfs.xOpen = Open;
  vfs.xDelete = Delete;
  vfs.xAccess = Access;
  vfs.xFullPathname = FullPathname;
  vfs.xDlOpen = DlOpen;
  vfs.xDlError = DlError;
  vfs.xDlSym = DlSym;
  vfs.xDlClose = DlClose;
  vfs.xRandomness = Randomness;
  vfs.xSleep = Sleep;
  vfs.xCurrentTime = CurrentTime;
  vfs.xGetLastError = GetLastError;
  vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  if (sqlite3_vfs_register(&vfs, /*makeDflt=*/0) != SQLITE_OK) {
    return Status::Internal("queue: registering the WAL-gathering SQLite VFS failed");
  }
  made[name] = std::move(m);
  return name;
}

}  // namespace crmhub::queue::internal
