// The metadata store: LMDB on the volume (VOLUME/meta/). Holds inodes,
// directory entries, xattrs, file data chunks, the exactly-once table and the
// volume state (last applied LSN, next inode number). The LMDB schema (every
// DBI, key and value layout) is documented in fs/meta_schema.h and
// docs/format/metadata-store.md.
//
// LMDB flags: MDB_NOMETASYNC (a crash may lose the last transactions, never
// integrity; the journal replays them), MDB_NOTLS (read transactions on any
// thread), MDB_NORDAHEAD. Never MDB_NOSYNC / MDB_WRITEMAP: they can leave the
// store unopenable after power loss (DESIGN invariant 7).
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "fs/ops.h"

namespace baton::fs {

struct StoreOptions {
  uint64_t map_size_bytes = 1ull << 40;  // virtual address space reserved; the file grows as needed
  uint32_t chunk_size_bytes = 65536;     // file data chunk size (from the superblock)
  bool read_only = false;
  // The volume's 16-byte id. Format records it (key "volume_id" of the state
  // DBI) and Open checks it, so a store is never served as part of another
  // volume (DESIGN invariant 6). Empty: not recorded / not checked (tests).
  std::string volume_id;
};

// Volume state kept in the store.
struct StoreState {
  uint64_t applied_lsn = 0;  // last journal LSN whose effects are in the store
  Ino next_ino = 2;          // lowest inode number never handed out
  uint64_t inode_count = 0;
  uint64_t bytes_stored = 0; // sum of data chunk bytes
  // The deterministic capacity rule (fs/meta_schema.h "Capacity"): apply()
  // answers ENOSPC to any op that would take used_bytes past capacity_bytes.
  uint64_t capacity_bytes = 0;  // fixed at Format from the map size
  uint64_t used_bytes = 0;      // charged bytes of every inode, entry, xattr and chunk
};

class MetaStore {
 public:
  // Creates a new store with the root directory (mode 0755, owner uid/gid) and
  // state applied_lsn = 0. Fails if one exists.
  static Status Format(const std::string& dir, const StoreOptions& opts, uint32_t root_uid, uint32_t root_gid,
                       int64_t now_ns);
  static StatusOr<std::unique_ptr<MetaStore>> Open(const std::string& dir, const StoreOptions& opts);
  virtual ~MetaStore() = default;

  virtual StatusOr<StoreState> ReadState() = 0;
  // Forces everything committed to disk (checkpoint before trimming the journal).
  virtual Status Sync() = 0;
  virtual MDB_env* env() = 0;
  virtual const StoreOptions& options() const = 0;
};

// Writes a consistent, compacted copy of src (as of one read transaction)
// into the existing empty directory dest_dir, and syncs it (mdb_env_copy2).
// Safe while another thread or process writes src.
Status CopyStore(MetaStore& src, const std::string& dest_dir);

// Translates an LMDB return code into a Status; the only place that does.
Status LmdbStatus(int rc, const char* what);

}  // namespace baton::fs
