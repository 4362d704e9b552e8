// The file-system operations: what a client asks, what the MDS journals and
// what apply() answers. Shared by the MDS, the client library, the FUSE
// client, replay and the tools. Pure data: no I/O here.
//
// Numbers in this file are written to disk (journal records) and to the wire.
// They are never reused: retire a number with a comment, never renumber.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace baton::fs {

using Ino = uint64_t;
constexpr Ino kRootIno = 1;
constexpr size_t kNameMaxBytes = 255;         // NAME_MAX
// Requests may carry longer names and targets (up to PATH_MAX) so that apply()
// answers ENAMETOOLONG instead of the decoder treating them as malformed.
constexpr size_t kWireNameMaxBytes = 4096;
constexpr size_t kSymlinkMaxBytes = 4095;     // PATH_MAX - 1
constexpr size_t kXattrNameMaxBytes = 255;    // XATTR_NAME_MAX
constexpr size_t kXattrValueMaxBytes = 65536; // XATTR_SIZE_MAX
constexpr size_t kWriteMaxBytes = 1 << 20;    // largest data in one write record
constexpr size_t kReadMaxBytes = 1 << 20;
constexpr uint64_t kFileSizeMaxBytes = 1ULL << 50;  // EFBIG beyond this (1 PiB)

enum class Op : uint16_t {
  // --- Queries: served from an LMDB read transaction, never journaled.
  kLookup = 1,     // parent, name                    -> entry
  kGetattr = 2,    // ino                             -> attr
  kReadlink = 3,   // ino                             -> data = target
  kReaddir = 4,    // ino, offset = cookie to resume after (0 = start), length = max entries
                   //                                 -> entries (with attrs: readdirplus)
  kRead = 5,       // ino, offset, length             -> data (short at EOF)
  kGetxattr = 6,   // ino, name                       -> data = value
  kListxattr = 7,  // ino                             -> data = NUL-separated names
  kStatfs = 8,     //                                 -> statfs
  kOpen = 9,       // ino, flags = open(2) flags       -> attr; checks permission (O_TRUNC is a separate setattr)
  kAccess = 10,    // ino, mode = R_OK|W_OK|X_OK mask  -> nothing
  kSeekData = 11,  // ino, offset, flags = SEEK_DATA or SEEK_HOLE -> offset in reply.offset

  // --- Mutations: stamped by the MDS, journaled, applied by apply().
  kMknod = 100,        // parent, name, mode (S_IFREG/S_IFIFO/S_IFCHR/S_IFBLK/S_IFSOCK | perms), rdev,
                       // umask, flags & kMknodOpen (always exclusive)  -> entry
  kMkdir = 101,        // parent, name, mode, umask         -> entry
  kSymlink = 102,      // parent, name, data = target       -> entry
  kLink = 103,         // ino, new_parent, new_name          -> entry
  kUnlink = 104,       // parent, name                       -> nothing (orphans reported to the MDS)
  kRmdir = 105,        // parent, name                       -> nothing
  kRename = 106,       // parent, name, new_parent, new_name, flags = RENAME_NOREPLACE|RENAME_EXCHANGE
  kSetattr = 107,      // ino, set (valid mask + values)     -> attr
  kWrite = 108,        // ino, offset, data, flags & kWriteAppend -> attr (size after), reply.offset = bytes written
  kSetxattr = 109,     // ino, name, data = value, flags = XATTR_CREATE|XATTR_REPLACE
  kRemovexattr = 110,  // ino, name
  kFallocate = 111,    // ino, flags = fallocate mode, offset, length -> attr
  kReclaim = 150,      // internal (session 0): ino = an orphan no session holds open; deletes it and its data
  kRepair = 151,       // internal (session 0), written only by `baton fsck --repair`: flags = fs::RepairAction,
                       // ino, parent, name, offset, length, data as that action says (fs/repair.h)

  // --- Session control: not journaled.
  kFsync = 200,    // ino (0 = whole session): a barrier, answered when every earlier request is durable
  kRelease = 201,  // ino: last close of ino on this session's mount
};

bool IsMutation(Op op);
bool IsQuery(Op op);
bool IsKnownOp(Op op);
// Written by the MDS or fsck themselves (session 0); a client sending one is refused (EPERM).
bool IsInternalOp(Op op);
const char* OpName(Op op);

// Write flags.
constexpr uint32_t kWriteAppend = 1;  // ignore offset, write at current end of file
// Mknod flags. kMknodOpen: the MDS also registers the session as a holder of
// the new inode (mds/open_table.h), as a kOpen would, before any later record
// can unlink and reclaim it: FUSE's create in one round trip. apply() ignores
// it; it only rides in the journal record.
constexpr uint32_t kMknodOpen = 1;

// Caller identity, checked by the POSIX rules in apply() and queries.
struct Creds {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;  // supplementary groups (at most 64 kept)
  bool InGroup(uint32_t g) const;
};

// Bits of SetattrArgs::valid. Values mirror nothing external; they are ours.
enum SetattrValid : uint32_t {
  kSetMode = 1u << 0,
  kSetUid = 1u << 1,
  kSetGid = 1u << 2,
  kSetSize = 1u << 3,
  kSetAtime = 1u << 4,     // to atime_ns
  kSetMtime = 1u << 5,     // to mtime_ns
  kSetAtimeNow = 1u << 6,  // to the record's time
  kSetMtimeNow = 1u << 7,
  kSetCtime = 1u << 8,     // to ctime_ns (rarely used)
  // With kSetSize: the caller holds the file open for writing (ftruncate), so
  // write permission was checked at open and truncate needs none (Linux).
  kSetSizeOpenFd = 1u << 9,
};

struct SetattrArgs {
  uint32_t valid = 0;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  int64_t atime_ns = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
};

// One request. Which fields matter depends on op (see the table above); the
// codec writes only those.
struct Request {
  Op op = Op::kGetattr;
  Creds creds;
  Ino ino = 0;
  Ino parent = 0;
  std::string name;
  Ino new_parent = 0;
  std::string new_name;
  uint32_t mode = 0;
  uint32_t umask = 0;
  uint64_t rdev = 0;
  uint32_t flags = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string data;
  SetattrArgs set;
};

struct Attr {
  Ino ino = 0;
  uint32_t mode = 0;  // S_IFMT | permission bits
  uint32_t nlink = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t rdev = 0;
  uint64_t size = 0;
  uint64_t blocks = 0;  // 512-byte units actually stored
  int64_t atime_ns = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t generation = 0;
};

struct DirEntry {
  std::string name;
  Ino ino = 0;
  uint32_t type = 0;    // S_IFMT bits of the child
  uint64_t cookie = 0;  // resume readdir after this entry; stable while others come and go
  Attr attr;            // readdirplus
};

struct StatfsInfo {
  uint64_t block_size = 4096;
  uint64_t blocks_total = 0;
  uint64_t blocks_free = 0;
  uint64_t blocks_avail = 0;
  uint64_t files_total = 0;
  uint64_t files_free = 0;
  uint32_t name_max = kNameMaxBytes;
};

struct Reply {
  int32_t err = 0;  // 0 or a positive errno
  Attr attr;        // entry and attr replies
  std::string data;
  uint64_t offset = 0;
  std::vector<DirEntry> entries;
  bool has_statfs = false;
  StatfsInfo statfs;
  // The directory an entry was made in or removed from, as the change left
  // it (kMknod, kMkdir, kSymlink, kLink, kUnlink, kRmdir); ino 0 otherwise.
  Attr parent_attr;
};

// A kMknod with kMknodOpen that succeeded: its session now holds the new inode.
inline bool IsCreateThatOpened(const Request& req, const Reply& rep) {
  return req.op == Op::kMknod && (req.flags & kMknodOpen) != 0 && rep.err == 0;
}

// Values the MDS fixes before journaling, so apply() is deterministic.
struct Stamp {
  uint64_t session_id = 0;  // 0 for internal records (kReclaim)
  uint64_t request_id = 0;
  // Lowest request id of this session still awaiting a reply: stored replies
  // below it may be dropped from the exactly-once table.
  uint64_t oldest_unreplied = 0;
  int64_t time_ns = 0;      // the operation's timestamp (ctime/mtime/atime)
  Ino new_ino = 0;          // inode number for kMknod/kMkdir/kSymlink
};

// The payload of one journal record of type kJournalTypeOp.
struct OpRecord {
  Stamp stamp;
  Request req;
};

constexpr uint16_t kJournalTypeOp = 1;  // journal record type carrying an OpRecord

// Codecs. Every encoding starts with a version byte; decoders reject unknown
// versions and malformed input with kCorruption, never assert.
std::string EncodeRequest(const Request& req);
Status DecodeRequest(std::string_view in, Request* out);
std::string EncodeReply(const Reply& rep);
Status DecodeReply(std::string_view in, Reply* out);
std::string EncodeOpRecord(const OpRecord& rec);
Status DecodeOpRecord(std::string_view in, OpRecord* out);
std::string EncodeAttr(const Attr& a);  // also the LMDB inode value body
Status DecodeAttr(std::string_view in, Attr* out);

// One-line human form for `baton journal dump`.
std::string DescribeOpRecord(const OpRecord& rec);

}  // namespace baton::fs
