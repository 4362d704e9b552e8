// The LMDB schema of the metadata store: every DBI, key and value layout.
// Prose version: docs/format/metadata-store.md. Integers in keys are
// big-endian (so LMDB's byte order sorts them numerically); integers in values
// are little-endian (base/coding.h). Every value that has structure starts
// with a version byte. Numbers here are on disk: never reuse them.
//
// DBI "state"      key "volume_id" (9 bytes): the volume's 16-byte id (raw),
//                  checked at open (fs/meta_store.cc)
//                  key "state" (5 bytes)
//                  value: u8 version=2 | u64 applied_lsn | u64 next_ino |
//                         u64 inode_count | u64 bytes_stored |
//                         u32 chunk_size_bytes | u32 format_version (=1) |
//                         u64 capacity_bytes | u64 used_bytes
//                  Version 1 (read, never written) lacks the last two:
//                  capacity_bytes 0 = "not recorded yet" (set by the first
//                  write from the opening map size; used_bytes estimated).
//                  capacity_bytes: fixed at Format from the LMDB map size
//                  (CapacityForMapSize), the same at every open; used_bytes:
//                  the charged size of every record (see "Capacity" below).
//                  apply() answers ENOSPC, changing nothing, to any op that
//                  would take used_bytes past capacity_bytes.
// DBI "inodes"     key: u64be ino
//                  value: EncodeAttr(attr) (u8 attr version=1 + 80 bytes) |
//                         u64 parent (directories: the '..' inode; root: 1;
//                                     others: 0) |
//                         u64 next_cookie (directories: the next readdir
//                                     cookie to hand out, starts at 3) |
//                         u64 stored_bytes (sum of this inode's chunk bytes) |
//                         symlink target (rest of the value; symlinks only)
// DBI "dentries"   key: u64be parent | name bytes (1..255)
//                  value: u8 version=1 | u64 child ino | u32 type (S_IFMT) |
//                         u64 cookie
// DBI "dircookies" key: u64be parent | u64be cookie      value: name bytes
//                  The readdir index: entries in creation order, resumable
//                  at a cookie while others come and go. Cookies 0..2 are
//                  never used (0 = start, 1 and 2 are the client's '.', '..').
// DBI "xattrs"     key: u64be ino | name bytes           value: raw value
// DBI "chunks"     key: u64be ino | u64be chunk index    value: raw bytes,
//                  1..chunk_size long. Chunk i holds file bytes
//                  [i*chunk_size, i*chunk_size + len). Missing chunks and
//                  bytes past a chunk's length (but below the file size)
//                  read as zeros. Invariant: no chunk byte lies at or past
//                  the file size.
// DBI "orphans"    key: u64be ino    value: empty. Inodes with nlink 0 kept
//                  (with their data) until a kReclaim record deletes them.
// DBI "replies"    key: u64be session | u64be request id
//                  value: EncodeReply(reply): the exactly-once table.
// DBI "sessions"   key: u64be session
//                  value: u8 version=2 | u64 last request id | i64 last seen ns |
//                         u64 last_prune_request_id | u64 pruned_below
//                  Version 1 (read, never written) lacks the last two (0).
//                  pruned_below: the session's replies below it are gone
//                  from "replies"; a request below it with no stored reply
//                  is a late duplicate and answers ESTALE unapplied.
//
// Capacity. used_bytes charges each record a deterministic, conservative
// estimate of the LMDB space it takes (RecordCharge: key + value + node
// header, doubled for half-full leaves; values past kLmdbInlineMaxBytes on
// whole 4 KiB overflow pages): chunks, xattrs, inodes (InodeCharge) and
// directory entries with their readdir cookie (DentryCharge). The exactly-once
// table is not charged (bounded by pruning); the headroom below the map size
// covers it, copy-on-write and LMDB's own pages.
#pragma once

#include <lmdb.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "base/coding.h"
#include "base/status.h"
#include "fs/ops.h"

namespace baton::fs {

constexpr uint32_t kStoreFormatVersion = 1;
constexpr uint8_t kStateVersion = 2;
constexpr uint8_t kStateVersionV1 = 1;  // read only
constexpr uint8_t kDentryVersion = 1;
constexpr uint8_t kSessionVersion = 2;
constexpr uint8_t kSessionVersionV1 = 1;  // read only
constexpr uint64_t kFirstDirCookie = 3;
constexpr unsigned kMaxDbs = 16;
constexpr std::string_view kStateKey = "state";
constexpr size_t kAttrValueBytes = 81;           // EncodeAttr size
constexpr size_t kInodeFixedBytes = kAttrValueBytes + 24;
constexpr size_t kStateValueBytesV1 = 1 + 8 * 4 + 4 + 4;
constexpr size_t kStateValueBytes = kStateValueBytesV1 + 8 + 8;
constexpr size_t kDentryValueBytes = 1 + 8 + 4 + 8;
constexpr size_t kSessionValueBytesV1 = 1 + 8 + 8;
constexpr size_t kSessionValueBytes = kSessionValueBytesV1 + 8 + 8;
static_assert(kStateValueBytes == 57 && kDentryValueBytes == 21 && kInodeFixedBytes == 105);
static_assert(kSessionValueBytes == 33);

// --- Capacity (see "Capacity" above). Pure functions: replay agrees.
constexpr uint64_t kChargePageBytes = 4096;
constexpr size_t kLmdbInlineMaxBytes = 2000;  // larger nodes go to overflow pages
// The charged size of one LMDB record.
constexpr uint64_t RecordCharge(uint64_t key_bytes, uint64_t val_bytes) {
  uint64_t node = 8 + key_bytes + val_bytes;
  if (node <= kLmdbInlineMaxBytes) return 2 * (node + 2);
  uint64_t pages = (val_bytes + 16 + kChargePageBytes - 1) / kChargePageBytes;
  return pages * kChargePageBytes + 2 * (8 + key_bytes + 8 + 2);
}
constexpr uint64_t ChunkCharge(uint64_t len) { return len == 0 ? 0 : RecordCharge(16, len); }
constexpr uint64_t XattrCharge(uint64_t name_bytes, uint64_t val_bytes) {
  return RecordCharge(8 + name_bytes, val_bytes);
}
constexpr uint64_t InodeCharge(uint64_t target_bytes) { return RecordCharge(8, kInodeFixedBytes + target_bytes); }
// A directory entry and its readdir cookie.
constexpr uint64_t DentryCharge(uint64_t name_bytes) {
  return RecordCharge(8 + name_bytes, kDentryValueBytes) + RecordCharge(16, name_bytes);
}
// The capacity of a store whose LMDB map is map_size_bytes: 3/4 of it less a
// margin, the rest left to copy-on-write, the exactly-once table and LMDB's
// own pages.
constexpr uint64_t kMapSizeMinBytes = 16ull << 20;
constexpr uint64_t CapacityForMapSize(uint64_t map_size_bytes) {
  uint64_t margin = std::min<uint64_t>(map_size_bytes / 8, 256ull << 20);
  return map_size_bytes / 4 * 3 - margin;
}

// The DBI names, in the order they are opened.
constexpr const char* kDbiNames[] = {"state", "inodes", "dentries", "dircookies", "xattrs",
                                     "chunks", "orphans", "replies", "sessions"};

struct Dbis {
  MDB_dbi state = 0, inodes = 0, dentries = 0, dircookies = 0, xattrs = 0, chunks = 0, orphans = 0,
          replies = 0, sessions = 0;
};

struct PersistState {
  uint64_t applied_lsn = 0;
  uint64_t next_ino = 2;
  uint64_t inode_count = 0;
  uint64_t bytes_stored = 0;
  uint32_t chunk_size_bytes = 65536;
  uint32_t format_version = kStoreFormatVersion;
  uint64_t capacity_bytes = 0;  // 0: not recorded (a version-1 state row)
  uint64_t used_bytes = 0;      // charged bytes; <= capacity_bytes after any apply
};

struct InodeRec {
  Attr attr;
  Ino parent = 0;
  uint64_t next_cookie = 0;
  uint64_t stored_bytes = 0;
  std::string target;  // symlinks only
};

struct DentryVal {
  Ino ino = 0;
  uint32_t type = 0;
  uint64_t cookie = 0;
};

struct SessionVal {
  uint64_t last_request_id = 0;
  int64_t last_seen_ns = 0;
  uint64_t last_prune_request_id = 0;  // request id of the mutation that last pruned
  uint64_t pruned_below = 0;           // replies below this request id are gone
};

// Keys. Each writes into a caller buffer (no allocation on the hot path).
struct Key16 {
  char b[16];
  MDB_val val() { return MDB_val{16, b}; }
};
struct Key8 {
  char b[8];
  MDB_val val() { return MDB_val{8, b}; }
};
inline void StoreU64BE(char* p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = static_cast<char>(v >> (8 * (7 - i)));
}
inline Key8 InoKey(Ino ino) {
  Key8 k;
  StoreU64BE(k.b, ino);
  return k;
}
inline Key16 PairKey(uint64_t a, uint64_t b) {
  Key16 k;
  StoreU64BE(k.b, a);
  StoreU64BE(k.b + 8, b);
  return k;
}
// ino/parent + name (dentries, xattrs); name <= 255 bytes.
struct NameKey {
  char b[8 + 256];
  size_t n = 0;
  NameKey(uint64_t prefix, std::string_view name) {
    StoreU64BE(b, prefix);
    n = 8 + std::min<size_t>(name.size(), 256);
    std::memcpy(b + 8, name.data(), n - 8);
  }
  MDB_val val() { return MDB_val{n, b}; }
};

inline std::string_view View(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

std::string EncodeState(const PersistState& s);
Status DecodeState(std::string_view in, PersistState* out);
void EncodeInode(const InodeRec& r, std::string* out);
Status DecodeInode(std::string_view in, InodeRec* out);
void EncodeDentry(const DentryVal& d, char out[kDentryValueBytes]);
Status DecodeDentry(std::string_view in, DentryVal* out);
void EncodeSession(const SessionVal& s, char out[kSessionValueBytes]);
Status DecodeSession(std::string_view in, SessionVal* out);

}  // namespace baton::fs
