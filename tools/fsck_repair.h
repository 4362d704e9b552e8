// `baton fsck --repair`: repairs a volume no MDS serves.
//
// The order, and why:
//   1. Locks: takeover.lock, the writer lock (VOLUME/lock) and the name lock
//      of every MDS of the volume (each MDS holds its own while it runs):
//      refused while any is held, or while any MDS published a heartbeat in
//      the last few seconds (a standby replays into its own store: it must
//      not run beside the repair).
//   2. Journal damage in the middle: refused, unless --discard-after-lsn N
//      (then every record after N is cut off, and every store that already
//      applied past N is set aside, since it holds changes the journal no
//      longer has).
//   3. The epoch is raised (fencing any deposed writer; the superblock write
//      also rewrites a damaged copy), and the journal is opened for writing
//      (which truncates a torn tail).
//   4. Every MDS store the journal continues is brought to the journal's end
//      (the replay an MDS does at start) and checked. The primary is the one
//      with the fewest problems (a sound one when there is one): repairs
//      planned on a store damaged on its own would damage the sound ones.
//   5. Rounds of check -> plan -> journal -> apply on the primary
//      (fs/repair.h): the repairs are journal records, so every other store
//      gets exactly the same repairs by replay.
//   6. Every other store is replayed (it receives the repair records) and
//      checked: one with a problem the primary does not have was damaged on
//      its own; it is set aside (renamed meta.damaged-TIME, nothing deleted)
//      and its MDS re-seeds it at start. A damaged mkfs store (VOLUME/meta)
//      is replaced by a copy of the primary (copied, then swapped in).
#pragma once

#include <cstdint>
#include <vector>

#include "tools/fsck_report.h"
#include "volume/volume.h"

namespace baton::tools {

struct RepairOptions {
  bool discard = false;            // --discard-after-lsn given
  uint64_t discard_after_lsn = 0;
  // --reclaim-orphans: also delete orphans (unlinked, still open somewhere
  // at the last stop) with kReclaim records. Off by default: a client mount
  // outlives MDS restarts and may still hold them open; the MDS reclaims the
  // ones nobody re-opens after its start-up grace period.
  bool reclaim_orphans = false;
};

// Step 1, before the check that precedes a repair: the locks (held until
// the object goes) and the live-MDS check. Returns kFsckOk, or the exit code
// of a refusal (kFsckOperational) after saying why.
class RepairLocks {
 public:
  RepairLocks() = default;
  ~RepairLocks();
  RepairLocks(const RepairLocks&) = delete;
  RepairLocks& operator=(const RepairLocks&) = delete;
  int Take(volume::Volume& vol, FsckReport* rep);

 private:
  std::vector<int> fds_;  // lock files held until the end
};

// Repairs what it can (the volume's RepairLocks held), reporting each change.
// Returns kFsckOk when the repair ran (the caller's re-check decides the exit
// code); the exit code of a refusal, with nothing written: kFsckUncorrected
// (middle-of-journal damage without --discard-after-lsn, or no store to
// repair), kFsckUsage (a bad --discard-after-lsn), kFsckOperational (the
// journal unreadable); or kFsckOperational when it stopped on an error after
// it had changed the volume (it says so; a second run finishes the job).
int RepairVolume(volume::Volume& vol, const RepairOptions& options, FsckReport* rep);

}  // namespace baton::tools
