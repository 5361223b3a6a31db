#include "tests/queue/failing_vfs.h"

#include <cstddef>

namespace crmhub::queue::testing {
namespace {

// Our file object; the real VFS's file lives right after it.
struct ShimFile {
  sqlite3_file base;  // must be first: SQLite sees a sqlite3_file*
  FailingVfs* owner;
  sqlite3_file* real;
};

ShimFile* Shim(sqlite3_file* f) { return reinterpret_cast<ShimFile*>(f); }
sqlite3_file* Real(sqlite3_file* f) { return Shim(f)->real; }

int Close(sqlite3_file* f) { return Real(f)->pMethods->xClose(Real(f)); }
int Read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return Real(f)->pMethods->xRead(Real(f), buf, n, off);
}
int Write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  Shim(f)->owner->CountWrite();
  if (Shim(f)->owner->ShouldFailWrite()) return SQLITE_IOERR_WRITE;
  return Real(f)->pMethods->xWrite(Real(f), buf, n, off);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (Shim(f)->owner->ShouldFailWrite()) return SQLITE_IOERR_TRUNCATE;
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int Sync(sqlite3_file* f, int flags) {
  if (Shim(f)->owner->ShouldFailSync()) return SQLITE_IOERR_FSYNC;
  return Real(f)->pMethods->xSync(Real(f), flags);
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int Lock(sqlite3_file* f, int level) { return Real(f)->pMethods->xLock(Real(f), level); }
int Unlock(sqlite3_file* f, int level) { return Real(f)->pMethods->xUnlock(Real(f), level); }
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int SectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int DeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int ShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return Real(f)->pMethods->xShmMap(Real(f), page, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int ShmUnmap(sqlite3_file* f, int del) { return Real(f)->pMethods->xShmUnmap(Real(f), del); }
int Fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
  return Real(f)->pMethods->xFetch(Real(f), off, n, out);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return Real(f)->pMethods->xUnfetch(Real(f), off, p);
}

const sqlite3_io_methods kMethods = {
    3,
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
    Fetch,
    Unfetch,
};

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  auto* owner = static_cast<FailingVfs*>(vfs->pAppData);
  ShimFile* shim = Shim(file);
  shim->owner = owner;
  shim->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + sizeof(ShimFile));
  int rc = owner->base()->xOpen(owner->base(), name, shim->real, flags, out_flags);
  // SQLite calls xClose only when pMethods is set: mirror the real file.
  shim->base.pMethods = shim->real->pMethods != nullptr ? &kMethods : nullptr;
  return rc;
}

sqlite3_vfs* BaseOf(sqlite3_vfs* vfs) { return static_cast<FailingVfs*>(vfs->pAppData)->base(); }

int Delete(sqlite3_vfs* v, const char* n, int sync) {
  return BaseOf(v)->xDelete(BaseOf(v), n, sync);
}
int Access(sqlite3_vfs* v, const char* n, int flags, int* out) {
  return BaseOf(v)->xAccess(BaseOf(v), n, flags, out);
}
int FullPathname(sqlite3_vfs* v, const char* n, int size, char* out) {
  return BaseOf(v)->xFullPathname(BaseOf(v), n, size, out);
}
void* DlOpen(sqlite3_vfs* v, const char* n) { return BaseOf(v)->xDlOpen(BaseOf(v), n); }
void DlError(sqlite3_vfs* v, int n, char* out) { BaseOf(v)->xDlError(BaseOf(v), n, out); }
void (*DlSym(sqlite3_vfs* v, void* h, const char* s))(void) {
  return BaseOf(v)->xDlSym(BaseOf(v), h, s);
}
void DlClose(sqlite3_vfs* v, void* h) { BaseOf(v)->xDlClose(BaseOf(v), h); }
int Randomness(sqlite3_vfs* v, int n, char* out) {
  return BaseOf(v)->xRandomness(BaseOf(v), n, out);
}
int Sleep(sqlite3_vfs* v, int us) { return BaseOf(v)->xSleep(BaseOf(v), us); }
int CurrentTime(sqlite3_vfs* v, double* out) { return BaseOf(v)->xCurrentTime(BaseOf(v), out); }
int GetLastError(sqlite3_vfs* v, int n, char* out) {
  return BaseOf(v)->xGetLastError(BaseOf(v), n, out);
}
int CurrentTimeInt64(sqlite3_vfs* v, sqlite3_int64* out) {
  return BaseOf(v)->xCurrentTimeInt64(BaseOf(v), out);
}

}  // namespace

FailingVfs::FailingVfs(std::string name)
    : name_(std::move(name)), base_(sqlite3_vfs_find(nullptr)) {
  vfs_.iVersion = 2;
  vfs_.szOsFile = static_cast<int>(sizeof(ShimFile)) + base_->szOsFile;
  vfs_.mxPathname = base_->mxPathname;
  vfs_.zName = name_.c_str();
  vfs_.pAppData = this;
  vfs_.xOpen = Open;
  vfs_.xDelete = Delete;
  vfs_.xAccess = Access;
  vfs_.xFullPathname = FullPathname;
  vfs_.xDlOpen = DlOpen;
  vfs_.xDlError = DlError;
  vfs_.xDlSym = DlSym;
  vfs_.xDlClose = DlClose;
  vfs_.xRandomness = Randomness;
  vfs_.xSleep = Sleep;
  vfs_.xCurrentTime = CurrentTime;
  vfs_.xGetLastError = GetLastError;
  vfs_.xCurrentTimeInt64 = CurrentTimeInt64;
  sqlite3_vfs_register(&vfs_, /*makeDflt=*/0);
}

FailingVfs::~FailingVfs() { sqlite3_vfs_unregister(&vfs_); }

void FailingVfs::HoldSyncs() {
  std::lock_guard lock(hold_mu_);
  hold_ = true;
}

void FailingVfs::ReleaseSyncs() {
  {
    std::lock_guard lock(hold_mu_);
    hold_ = false;
  }
  hold_cv_.notify_all();
}

bool FailingVfs::WaitForHeldSync(std::chrono::milliseconds timeout) {
  std::unique_lock lock(hold_mu_);
  return hold_cv_.wait_for(lock, timeout, [&] { return held_syncs_ > 0; });
}

void FailingVfs::WaitWhileHeld() {
  std::unique_lock lock(hold_mu_);
  if (!hold_) return;
  ++held_syncs_;
  hold_cv_.notify_all();
  hold_cv_.wait(lock, [&] { return !hold_; });
  --held_syncs_;
}

}  // namespace crmhub::queue::testing
