// The I/O log that lmdb_io_shim.cc writes and lmdb_crash_test.cc replays.
//
// A flat sequence of records, each a fixed header followed by `length`
// payload bytes, in the order the calls returned in the traced process:
//
//   kOpen      a data.mdb file descriptor was opened: flags = open(2) flags,
//              offset = fd, payload = path
//   kWrite     bytes went to data.mdb (pwrite, pwritev, write, writev; only
//              the bytes the call reported written): offset = file offset,
//              payload = the bytes
//   kSync      fdatasync/fsync of a data.mdb descriptor returned 0, or a
//              write on an O_SYNC/O_DSYNC descriptor completed (flags says
//              which); everything written to data.mdb before is durable
//   kTruncate  ftruncate of data.mdb: offset = new size (LMDB does this only
//              with MDB_WRITEMAP; the test refuses a log holding one)
//   kMsync     msync of any mapping (LMDB does this only with MDB_WRITEMAP;
//              the test refuses a log holding one)
//   kMark      a line the traced program wrote through
//              baton_lmdb_shim_mark() (commit markers), payload = the text
//
// Native byte order: writer and reader run on the same machine.
#pragma once

#include <cstdint>

namespace baton::torture::lmdblog {

inline constexpr char kLogEnv[] = "BATON_LMDB_IO_LOG";  // path of the log; unset: the shim only passes through
inline constexpr char kMarkSymbol[] = "baton_lmdb_shim_mark";
inline constexpr uint32_t kMagic = 0x4c4d4442;  // "BDML"

enum RecType : uint32_t {
  kOpen = 1,
  kWrite = 2,
  kSync = 3,
  kTruncate = 4,
  kMsync = 5,
  kMark = 6,
};

// kSync flags: what made the data durable.
inline constexpr uint32_t kSyncFdatasync = 1;
inline constexpr uint32_t kSyncFsync = 2;
inline constexpr uint32_t kSyncDsyncWrite = 3;  // a write on an O_SYNC/O_DSYNC descriptor

struct RecHeader {
  uint32_t magic;
  uint32_t type;    // RecType
  uint32_t flags;
  int32_t fd;       // the traced descriptor (-1 for kMsync and kMark)
  uint64_t offset;
  uint64_t length;  // payload bytes that follow
};
static_assert(sizeof(RecHeader) == 32);

// The marker function the shim exports (found with dlsym(RTLD_DEFAULT)).
using MarkFn = int (*)(const char* text, uint64_t len);

}  // namespace baton::torture::lmdblog
