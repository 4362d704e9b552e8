// A volume: the durable state of one file system in one directory.
//
//   VOLUME/superblock   two 4 KiB slots (volume/superblock_format.h)
//   VOLUME/lock         the active's lock: an open-file-description lock held
//                       by the active MDS; its text names the holder
//                       (mds/election.h; also VOLUME/takeover.lock)
//   VOLUME/journal/     journal segments (journal/journal_format.h)
//   VOLUME/meta/        the LMDB metadata store mkfs made (LSN 0, with the
//                       root directory; fs/meta_schema.h): the seed of every
//                       MDS's own store
//   VOLUME/mds/NAME/    one MDS's own metadata store (meta/) and its info
//                       file (mds/mds_info.h, mds/store_bootstrap.h)
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/env.h"
#include "base/status.h"
#include "fs/meta_store.h"
#include "journal/journal.h"
#include "volume/superblock.h"

namespace baton::volume {

struct MkfsOptions {
  bool force = false;                         // overwrite an existing volume / non-empty dir
  std::string label;
  bool has_uuid = false;                      // use `uuid` instead of a random one
  journal::VolumeId uuid;
  uint32_t chunk_size_bytes = 65536;
  uint64_t journal_segment_bytes = 64ull << 20;
  uint64_t meta_map_bytes = 1ull << 40;
  uint32_t root_uid = 0;
  uint32_t root_gid = 0;
};

class Volume {
 public:
  // mkfs: creates the directory layout, superblock, empty journal and the
  // metadata store with its root directory.
  static StatusOr<Superblock> Create(Env* env, const std::string& path, const MkfsOptions& opts);
  // Opens an existing volume (reads and checks the superblock). Takes no lock.
  static StatusOr<std::unique_ptr<Volume>> Open(Env* env, const std::string& path);

  ~Volume();
  Volume(const Volume&) = delete;
  Volume& operator=(const Volume&) = delete;

  // Takes the writer lock without waiting. kBusy, naming the holder, if
  // another process serves the volume. Released on close or process death.
  Status TryLockWriter(const std::string& holder_description);
  // Waits for the writer lock (a standby waiting to take over).
  Status LockWriterBlocking(const std::string& holder_description);
  bool holds_writer_lock() const { return lock_fd_ >= 0; }
  // Who holds the writer lock now (its text), for messages.
  std::string DescribeLockHolder() const;

  const Superblock& superblock() const { return sb_; }
  // Raises the epoch in the superblock, crash-safely (write the other slot,
  // fdatasync). Only the elected active calls it (mds/election.h).
  Status SetEpoch(uint64_t epoch);
  // Re-reads the superblock from disk and refreshes the cached copy (a writer
  // checks it was not fenced; a standby that just took the lock builds its
  // epoch on the copy that the previous holders left).
  StatusOr<Superblock> ReloadSuperblock();

  Env* env() const { return env_; }
  const std::string& path() const { return path_; }
  std::string journal_dir() const;
  std::string meta_dir() const;
  journal::JournalOptions journal_options() const;
  // Options to open this volume's metadata store: map and chunk size from
  // the superblock, bound to the volume id.
  fs::StoreOptions store_options(bool read_only = false) const;

 private:
  Volume(Env* env, std::string path, Superblock sb) : env_(env), path_(std::move(path)), sb_(sb) {}
  Status LockWriter(const std::string& holder, bool wait);

  Env* env_;
  std::string path_;
  Superblock sb_;
  int lock_fd_ = -1;
};

}  // namespace baton::volume
