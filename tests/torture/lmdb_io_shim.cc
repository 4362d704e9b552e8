// An LD_PRELOAD shim that records LMDB's I/O on data.mdb for
// lmdb_crash_test.cc (format in lmdb_crash_log.h).
//
// LMDB 0.9.24 (Debian's liblmdb0) reaches data.mdb only through these libc
// calls (its dynamic imports; mdb.c): open (me_fd O_RDWR|O_CREAT, and me_mfd
// O_WRONLY|O_DSYNC which MDB_NOMETASYNC leaves unused), pwrite (single pages,
// the two initial meta pages, the meta-page update), lseek + writev (runs of
// up to 64 contiguous dirty pages; MDB_USE_PWRITEV is not defined on Linux),
// fdatasync (commit and mdb_env_sync; fsync instead only on ext3/4 with a
// kernel older than 3.6, MDB_FSYNCONLY), and, only with MDB_WRITEMAP,
// ftruncate and msync. Reads go through the read-only mmap. The shim wraps
// all of those and a few siblings (pwrite64, pwritev*, write, fsync,
// ftruncate64, openat*), passes every call through, and for descriptors
// whose path ends in "data.mdb" appends what happened to the log named by
// $BATON_LMDB_IO_LOG. A call and its log record happen under one mutex, so
// the log order is the order the calls took effect.
//
// The shim is built without sanitizers and links nothing of BatonFS: it must
// load into any process (the test runs its child with
// LD_PRELOAD=[libasan.so] lmdb_io_shim.so).
#ifdef _FORTIFY_SOURCE
#undef _FORTIFY_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

#include "tests/torture/lmdb_crash_log.h"

namespace {

using namespace baton::torture::lmdblog;

using OpenFn = int (*)(const char*, int, ...);
using OpenatFn = int (*)(int, const char*, int, ...);
using CloseFn = int (*)(int);
using PwriteFn = ssize_t (*)(int, const void*, size_t, off_t);
using WriteFn = ssize_t (*)(int, const void*, size_t);
using WritevFn = ssize_t (*)(int, const struct iovec*, int);
using PwritevFn = ssize_t (*)(int, const struct iovec*, int, off_t);
using Pwritev2Fn = ssize_t (*)(int, const struct iovec*, int, off_t, int);
using SyncFn = int (*)(int);
using TruncFn = int (*)(int, off_t);
using MsyncFn = int (*)(void*, size_t, int);

template <typename F>
F Real(F* slot, const char* name) {
  F f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
  if (f == nullptr) {
    f = reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
    if (f == nullptr) abort();  // no libc symbol: nothing sensible to do
    __atomic_store_n(slot, f, __ATOMIC_RELEASE);
  }
  return f;
}

#define REAL(type, name)        \
  static type real_##name##_;   \
  type real_##name = Real(&real_##name##_, #name)

constexpr int kMaxFd = 65536;
// 0: not traced; else the open(2) flags | kTraced.
constexpr int kTraced = 1 << 30;
int g_fd_flags[kMaxFd];
pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
int g_log_fd = -1;      // -1: not opened yet; -2: no log wanted
char g_log_path[4096];

struct Locker {
  Locker() { pthread_mutex_lock(&g_mu); }
  ~Locker() { pthread_mutex_unlock(&g_mu); }
};

bool IsDataMdb(const char* path) {
  if (path == nullptr) return false;
  size_t n = strlen(path);
  const size_t k = sizeof("data.mdb") - 1;
  if (n < k || strcmp(path + n - k, "data.mdb") != 0) return false;
  return n == k || path[n - k - 1] == '/';
}

int TracedFlags(int fd) { return fd >= 0 && fd < kMaxFd ? g_fd_flags[fd] : 0; }

// Writes all of buf with the real write (the log fd is never traced).
void WriteAll(int fd, const void* buf, size_t len) {
  REAL(WriteFn, write);
  const char* p = static_cast<const char*>(buf);
  while (len > 0) {
    ssize_t w = real_write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) abort();  // a lost record would make the replay lie
    p += w;
    len -= static_cast<size_t>(w);
  }
}

// Under g_mu. Returns the log fd, or -1 when no log is wanted.
int LogFd() {
  if (g_log_fd >= 0) return g_log_fd;
  if (g_log_fd == -2) return -1;
  const char* path = getenv(kLogEnv);
  if (path == nullptr || *path == '\0' || strlen(path) >= sizeof g_log_path) {
    g_log_fd = -2;
    return -1;
  }
  strcpy(g_log_path, path);
  REAL(OpenFn, open);
  int saved = errno;
  g_log_fd = real_open(g_log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (g_log_fd < 0) abort();
  if (g_log_fd < kMaxFd) g_fd_flags[g_log_fd] = 0;
  errno = saved;
  return g_log_fd;
}

// Under g_mu: appends one record whose payload is the iovec list (clipped to
// `length` bytes).
void Log(RecType type, uint32_t flags, int fd, uint64_t offset, const struct iovec* iov, int iovcnt, uint64_t length) {
  int lfd = LogFd();
  if (lfd < 0) return;
  int saved = errno;
  RecHeader h{kMagic, type, flags, fd, offset, length};
  WriteAll(lfd, &h, sizeof h);
  uint64_t left = length;
  for (int i = 0; i < iovcnt && left > 0; i++) {
    size_t n = iov[i].iov_len < left ? iov[i].iov_len : static_cast<size_t>(left);
    WriteAll(lfd, iov[i].iov_base, n);
    left -= n;
  }
  errno = saved;
}

void LogBuf(RecType type, uint32_t flags, int fd, uint64_t offset, const void* buf, uint64_t len) {
  struct iovec v{const_cast<void*>(buf), static_cast<size_t>(len)};
  Log(type, flags, fd, offset, &v, 1, len);
}

// Under g_mu, after a successful write on a traced fd.
void LogWrite(int fd, uint64_t off, const struct iovec* iov, int iovcnt, ssize_t written) {
  if (written <= 0) return;
  Log(kWrite, 0, fd, off, iov, iovcnt, static_cast<uint64_t>(written));
  if (TracedFlags(fd) & (O_SYNC | O_DSYNC)) Log(kSync, kSyncDsyncWrite, fd, 0, nullptr, 0, 0);
}

// Under g_mu: the offset a write(2)/writev(2) on fd will use.
uint64_t CurrentOffset(int fd) {
  if (TracedFlags(fd) & O_APPEND) {
    struct stat st;
    return fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  }
  off_t o = lseek(fd, 0, SEEK_CUR);
  return o < 0 ? 0 : static_cast<uint64_t>(o);
}

void Track(int fd, const char* path, int flags) {
  if (fd < 0 || fd >= kMaxFd) return;
  if (!IsDataMdb(path)) {
    g_fd_flags[fd] = 0;
    return;
  }
  g_fd_flags[fd] = flags | kTraced;
  LogBuf(kOpen, static_cast<uint32_t>(flags), fd, static_cast<uint64_t>(fd), path, strlen(path));
}

bool NeedsMode(int flags) { return (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE; }

int DoOpen(const char* name, OpenFn* slot, const char* path, int flags, mode_t mode) {
  OpenFn real = Real(slot, name);
  if (!IsDataMdb(path)) {
    int fd = real(path, flags, mode);
    if (fd >= 0 && fd < kMaxFd) {
      Locker l;
      g_fd_flags[fd] = 0;
    }
    return fd;
  }
  Locker l;
  int fd = real(path, flags, mode);
  Track(fd, path, flags);
  return fd;
}

int DoOpenat(const char* name, OpenatFn* slot, int dirfd, const char* path, int flags, mode_t mode) {
  OpenatFn real = Real(slot, name);
  if (!IsDataMdb(path)) {
    int fd = real(dirfd, path, flags, mode);
    if (fd >= 0 && fd < kMaxFd) {
      Locker l;
      g_fd_flags[fd] = 0;
    }
    return fd;
  }
  Locker l;
  int fd = real(dirfd, path, flags, mode);
  Track(fd, path, flags);
  return fd;
}

OpenFn g_open, g_open64;
OpenatFn g_openat, g_openat64;

ssize_t DoPwritev(int fd, const struct iovec* iov, int iovcnt, off_t off, int flags, bool v2) {
  static Pwritev2Fn real2_;
  static PwritevFn real1_;
  auto call = [&]() -> ssize_t {
    if (v2) return Real(&real2_, "pwritev2")(fd, iov, iovcnt, off, flags);
    return Real(&real1_, "pwritev")(fd, iov, iovcnt, off);
  };
  if (!TracedFlags(fd)) return call();
  Locker l;
  uint64_t where = off == -1 ? CurrentOffset(fd) : static_cast<uint64_t>(off);  // pwritev2(-1): current offset
  ssize_t w = call();
  LogWrite(fd, where, iov, iovcnt, w);
  return w;
}

int DoSync(const char* name, SyncFn* slot, uint32_t kind, int fd) {
  SyncFn real = Real(slot, name);
  if (!TracedFlags(fd)) return real(fd);
  Locker l;
  int rc = real(fd);
  if (rc == 0) Log(kSync, kind, fd, 0, nullptr, 0, 0);
  return rc;
}

int DoTruncate(const char* name, TruncFn* slot, int fd, off_t len) {
  TruncFn real = Real(slot, name);
  if (!TracedFlags(fd)) return real(fd, len);
  Locker l;
  int rc = real(fd, len);
  if (rc == 0) Log(kTruncate, 0, fd, static_cast<uint64_t>(len), nullptr, 0, 0);
  return rc;
}

SyncFn g_fsync, g_fdatasync;
TruncFn g_ftruncate, g_ftruncate64;

mode_t ModeArg(int flags, va_list ap) { return NeedsMode(flags) ? static_cast<mode_t>(va_arg(ap, int)) : 0; }

}  // namespace

extern "C" {

__attribute__((visibility("default"))) int baton_lmdb_shim_mark(const char* text, uint64_t len) {
  Locker l;
  if (LogFd() < 0) return -1;
  LogBuf(kMark, 0, -1, 0, text, len);
  return 0;
}

int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = ModeArg(flags, ap);
  va_end(ap);
  return DoOpen("open", &g_open, path, flags, mode);
}

int open64(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = ModeArg(flags, ap);
  va_end(ap);
  return DoOpen("open64", &g_open64, path, flags, mode);
}

int openat(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = ModeArg(flags, ap);
  va_end(ap);
  return DoOpenat("openat", &g_openat, dirfd, path, flags, mode);
}

int openat64(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = ModeArg(flags, ap);
  va_end(ap);
  return DoOpenat("openat64", &g_openat64, dirfd, path, flags, mode);
}

int close(int fd) {
  REAL(CloseFn, close);
  if (!TracedFlags(fd)) return real_close(fd);
  Locker l;
  g_fd_flags[fd] = 0;
  return real_close(fd);
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
  REAL(PwriteFn, pwrite);
  if (!TracedFlags(fd)) return real_pwrite(fd, buf, n, off);
  Locker l;
  ssize_t w = real_pwrite(fd, buf, n, off);
  struct iovec v{const_cast<void*>(buf), n};
  LogWrite(fd, static_cast<uint64_t>(off), &v, 1, w);
  return w;
}

ssize_t pwrite64(int fd, const void* buf, size_t n, off_t off) {
  REAL(PwriteFn, pwrite64);
  if (!TracedFlags(fd)) return real_pwrite64(fd, buf, n, off);
  Locker l;
  ssize_t w = real_pwrite64(fd, buf, n, off);
  struct iovec v{const_cast<void*>(buf), n};
  LogWrite(fd, static_cast<uint64_t>(off), &v, 1, w);
  return w;
}

ssize_t write(int fd, const void* buf, size_t n) {
  REAL(WriteFn, write);
  if (!TracedFlags(fd)) return real_write(fd, buf, n);
  Locker l;
  uint64_t off = CurrentOffset(fd);
  ssize_t w = real_write(fd, buf, n);
  struct iovec v{const_cast<void*>(buf), n};
  LogWrite(fd, off, &v, 1, w);
  return w;
}

ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  REAL(WritevFn, writev);
  if (!TracedFlags(fd)) return real_writev(fd, iov, iovcnt);
  Locker l;
  uint64_t off = CurrentOffset(fd);
  ssize_t w = real_writev(fd, iov, iovcnt);
  LogWrite(fd, off, iov, iovcnt, w);
  return w;
}

ssize_t pwritev(int fd, const struct iovec* iov, int iovcnt, off_t off) {
  return DoPwritev(fd, iov, iovcnt, off, 0, false);
}

ssize_t pwritev64(int fd, const struct iovec* iov, int iovcnt, off_t off) {
  return DoPwritev(fd, iov, iovcnt, off, 0, false);
}

ssize_t pwritev2(int fd, const struct iovec* iov, int iovcnt, off_t off, int flags) {
  return DoPwritev(fd, iov, iovcnt, off, flags, true);
}

int fsync(int fd) { return DoSync("fsync", &g_fsync, kSyncFsync, fd); }
int fdatasync(int fd) { return DoSync("fdatasync", &g_fdatasync, kSyncFdatasync, fd); }
int ftruncate(int fd, off_t len) { return DoTruncate("ftruncate", &g_ftruncate, fd, len); }
int ftruncate64(int fd, off_t len) { return DoTruncate("ftruncate64", &g_ftruncate64, fd, len); }

int msync(void* addr, size_t len, int flags) {
  REAL(MsyncFn, msync);
  Locker l;
  int rc = real_msync(addr, len, flags);
  if (rc == 0) Log(kMsync, static_cast<uint32_t>(flags), -1, reinterpret_cast<uint64_t>(addr), nullptr, 0, 0);
  return rc;
}

}  // extern "C"
