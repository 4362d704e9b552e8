// Repairs of a metadata store, as journal records.
//
// Every MDS keeps its own store, and a store is only ever the journal's
// prefix applied by apply() (fs/apply.h). A repair that edited one store
// directly would make that store disagree with every other store and with
// every later replay. So `baton fsck --repair` does not edit stores: it
// appends kRepair records (internal, session 0) to the journal, under the
// writer lock and a raised epoch like any active, and applies them through
// ApplyBatch. Every other store gets the same repairs when its MDS replays
// the journal: one mechanism, deterministic, crash-safe (a repair that was
// not durable in the journal was never applied anywhere).
//
// A kRepair record names one action (Request.flags) and its arguments in
// the Request's fields. The planner below turns the checker's problems
// (fs/check.h) into actions in rounds, each round one journal group:
//   1. structure: drop records that cannot stand (undecodable records,
//      entries naming missing inodes or non-directories, extra entries of a
//      directory, stale cookies, xattrs/chunks of missing inodes, orphan-list
//      entries of missing or linked inodes, exactly-once replies without a
//      session), fix entry types and missing cookies, extend a size that
//      stops short of its data;
//   2. connectivity: link each detached inode or tree into /lost+found as
//      "#INO" (kMkdir of /lost+found first when it is missing); a detached
//      cycle of directories is broken at its lowest inode;
//   3. counts: link counts, '..', per-inode stored bytes, volume counters.
// A round only ever plans from a fresh check, so each action's arguments are
// exact values for the store it is applied to.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fs/check.h"
#include "fs/ops.h"

namespace baton::fs {

// Journaled numbers: never renumber, retire with a comment.
enum class RepairAction : uint32_t {
  kDropKey = 1,          // length = StoreDb, data = raw key: delete that record (ok if absent)
  kDropEntry = 2,        // parent, name: delete the entry and its cookie (the target's count: round 3)
  kFixEntryType = 3,     // parent, name: set the entry's type from its inode
  kFixCookie = 4,        // parent, name: give the entry a fresh cookie from its directory
  kExtendSize = 5,       // ino, offset = size: raise a regular file's size to offset
  kLinkLostFound = 6,    // ino, parent = the /lost+found inode: add the entry "#INO"
  kSetNlink = 7,         // ino, offset = link count
  kSetDotdot = 8,        // ino, parent: a directory's '..'
  kRecountStored = 9,    // ino: stored_bytes (and blocks) from its chunks
  kRecountVolume = 10,   // inode_count, bytes_stored, used_bytes recounted; next_ino above every inode
};
const char* RepairActionName(RepairAction a);

inline constexpr const char* kLostFoundName = "lost+found";

// Builds the request of one action (op kRepair).
Request MakeRepair(RepairAction a);
// "drop-entry 1/name", "set-nlink ino 12 to 3", ... for fsck's output and journal dump.
std::string DescribeRepair(const Request& req);

struct RepairPlan {
  // Records to append (each a kRepair request, or the kMkdir of
  // /lost+found whose new inode number is mkdir_ino), in order.
  std::vector<Request> actions;
  Ino mkdir_ino = 0;
  // Problems no action can fix (no root inode, a /lost+found that is not a
  // directory, ...), with the reason in the message.
  std::vector<CheckProblem> unrepairable;
};

// Plans the next round from a fresh check of the store. lost_found is the
// inode of /lost+found (0 if missing) and next_ino the store's next inode
// number (for its kMkdir). An empty plan with no unrepairable problems means
// nothing to do.
RepairPlan PlanRepairs(const std::vector<CheckProblem>& problems, Ino lost_found, bool lost_found_is_dir,
                       Ino next_ino);

}  // namespace baton::fs
