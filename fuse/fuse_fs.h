// The FUSE client's state and the helpers every op handler uses. The handlers
// themselves live in ops_entry.cc (names: lookup, mknod, rename...),
// ops_file.cc (open, read, write, fsync...), ops_dir.cc (readdir...) and
// ops_misc.cc (xattrs, statfs, access, init); MakeLowlevelOps() gathers them.
//
// Every handler turns one FUSE request into one (or two) client-library calls
// carrying the caller's uid/gid/groups; the MDS applies the POSIX rules and
// answers only once a mutation is durable, so a handler's reply to the kernel
// is never ahead of the journal. No file-system state is cached here beyond
// what the kernel needs us to count: lookup references (forget) and open
// counts per inode (the MDS keeps an unlinked file while any mount holds it
// open, so the last release on this mount is reported with kRelease).
#pragma once

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <sys/stat.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "client/client.h"
#include "fs/ops.h"
#include "fuse/mount_options.h"

namespace baton::fuse {

class FuseFs {
 public:
  FuseFs(std::unique_ptr<client::Client> client, const MountConfig& cfg);
  ~FuseFs();

  const MountConfig& config() const { return cfg_; }
  client::Client& client() { return *client_; }

  // A request of `op` carrying the caller's credentials.
  fs::Request NewRequest(fuse_req_t req, fs::Op op) const;
  // Sends r; returns 0 with *rep filled, or the errno to answer (rep->err, or
  // EIO when the client library gives up, which only a failover timeout does).
  int Call(const fs::Request& r, fs::Reply* rep);

  // The kernel drops a directory's cached attributes after every entry made
  // or removed in it, and default_permissions then asks GETATTR of it before
  // the next lookup or create there. The MDS's reply to such a change carries
  // the directory's attributes as the change left them (fs::Reply::
  // parent_attr); TakeParentAttr answers that GETATTR with them, once, if
  // this mount has sent no other change since the one that returned them,
  // none was unanswered when they came, and the session did not reconnect
  // meanwhile (so they show every change of this mount), and they are
  // younger than attr_timeout (the answer's timeout is what is left of it:
  // no staler than the kernel's own cache would have been).
  bool TakeParentAttr(fs::Ino ino, fs::Attr* a, double* timeout_s);
  // fsync and fsyncdir: 0 once every change of this mount that was answered
  // before the call is durable. The MDS answers a change only once it is in
  // the journal, so when nothing is awaiting an answer that is already true
  // and no round trip is needed; otherwise (a request in flight, or a call
  // given up on since the last barrier, which the MDS may still apply) a
  // kFsync barrier waits for the session's earlier requests. (Early,
  // not-yet-durable replies would end this shortcut.)
  int SyncBarrier(fuse_req_t req, fs::Ino ino);

  // Replies with an entry for a, counting the kernel's new lookup reference.
  void ReplyEntry(fuse_req_t req, const fs::Attr& a);
  void ReplyAttr(fuse_req_t req, const fs::Attr& a, double timeout_s = -1);  // < 0: attr_timeout
  void FillEntry(const fs::Attr& a, fuse_entry_param* e) const;

  // Lookup references the kernel holds (forget / batch_forget), with the
  // size and mtime last handed to the kernel for each inode.
  void AddLookup(fs::Ino ino, uint64_t n);
  void NoteAttr(const fs::Attr& a);  // the kernel was just given a
  // Close-to-open: when the attributes an open found differ from those the
  // kernel was last given, drop the kernel's cached attributes so the next
  // read or stat asks the MDS (otherwise it reads up to a stale size).
  void RefreshIfChanged(const fs::Attr& a);
  void set_session(fuse_session* se) { se_ = se; }

  // The kernel asks for security.capability before every write (to know
  // whether to drop it) and almost no file has one. A "none" answer is
  // trusted for attr_timeout, like the other attributes, and forgotten when
  // this mount sets or removes an xattr of the inode.
  bool KnownWithoutCaps(fs::Ino ino);
  void NoteWithoutCaps(fs::Ino ino);
  void ForgetCaps(fs::Ino ino);
  void Forget(fs::Ino ino, uint64_t n);
  uint64_t LookupCount(fs::Ino ino) const;
  size_t LookupTableSize() const;

  // Open counting: OpenInode sends kOpen (permission check, keeps an unlinked
  // inode alive) and counts it; ReleaseInode sends kRelease when the count
  // reaches zero. Same-inode opens and releases are serialised so the MDS sees
  // them in the order they were counted. check_access=false is for the open
  // that create(2) makes of the file it just made, which POSIX grants
  // whatever the new file's mode.
  int OpenInode(fuse_req_t req, fs::Ino ino, int flags, fs::Attr* attr, bool check_access = true);
  void ReleaseInode(fs::Ino ino);
  // create(2) in one round trip: a kMknod with fs::kMknodOpen makes the MDS
  // hold the new inode for this session as it applies the create. Take
  // ReleaseMark() before sending it; CountCreatedOpen then counts the open.
  // The MDS keeps one hold per session, so if a release of an inode in the
  // new inode's stripe was sent since the mark (another thread may have found
  // the new file, opened and closed it, and so dropped that hold), it holds
  // the inode again with a kOpen first, as the two-step create did.
  uint64_t ReleaseMark();
  int CountCreatedOpen(fuse_req_t req, fs::Ino ino, int flags, uint64_t mark);

 private:
  std::mutex& Stripe(fs::Ino ino) { return stripes_[ino % stripes_.size()]; }

  std::unique_ptr<client::Client> client_;
  MountConfig cfg_;
  struct Known {
    uint64_t nlookup = 0;
    uint64_t size = 0;
    int64_t mtime_ns = 0;
  };
  fuse_session* se_ = nullptr;
  mutable std::mutex lookup_mu_;
  std::unordered_map<fs::Ino, Known> lookups_;  // GUARDED_BY(lookup_mu_)
  std::mutex caps_mu_;
  std::unordered_map<fs::Ino, std::chrono::steady_clock::time_point> no_caps_until_;  // GUARDED_BY(caps_mu_)
  uint64_t ChangeSent();  // returns the client's reconnect count
  void ChangeAnswered(const fs::Attr& parent, uint64_t reconnects_before);

  struct ParentAttr {
    fs::Attr attr;         // ino 0: none
    uint64_t sent_at = 0;  // changes_sent_ when it was kept
    std::chrono::steady_clock::time_point at;
  };
  std::mutex parent_mu_;
  uint64_t changes_sent_ = 0;        // GUARDED_BY(parent_mu_): requests sent that are not queries
  uint64_t changes_unanswered_ = 0;  // GUARDED_BY(parent_mu_)
  ParentAttr last_parent_;           // GUARDED_BY(parent_mu_): only the last can still be current
  std::atomic<uint64_t> abandoned_{0};         // calls given up on (timeouts)
  std::atomic<uint64_t> abandoned_synced_{0};  // abandoned_ as of the last kFsync barrier
  std::array<std::mutex, 64> stripes_;             // serialise open/release per inode
  std::mutex open_mu_;
  std::unordered_map<fs::Ino, uint64_t> open_counts_;  // GUARDED_BY(open_mu_)
  uint64_t releases_sent_ = 0;                         // GUARDED_BY(open_mu_)
  std::array<uint64_t, 64> stripe_released_at_{};      // GUARDED_BY(open_mu_): releases_sent_ at the stripe's last
};

FuseFs* FsOf(fuse_req_t req);
void AttrToStat(const fs::Attr& a, struct stat* st);

// The handler table (fuse_lowlevel_ops) and its parts.
fuse_lowlevel_ops MakeLowlevelOps();
void AddEntryOps(fuse_lowlevel_ops* ops);
void AddFileOps(fuse_lowlevel_ops* ops);
void AddDirOps(fuse_lowlevel_ops* ops);
void AddMiscOps(fuse_lowlevel_ops* ops);

// `baton mount` / mount.baton: parse, check, connect, mount, serve.
int RunMount(int argc, char** argv, int first);

}  // namespace baton::fuse
