#include "fuse/fuse_fs.h"

#include <cerrno>

#include "base/log.h"

namespace baton::fuse {

namespace {

constexpr int kMaxGroups = 64;

timespec NsToTimespec(int64_t ns) {
  int64_t sec = ns / 1000000000, rem = ns % 1000000000;
  if (rem < 0) {
    rem += 1000000000;
    sec -= 1;
  }
  return timespec{static_cast<time_t>(sec), static_cast<long>(rem)};
}

}  // namespace

FuseFs::FuseFs(std::unique_ptr<client::Client> client, const MountConfig& cfg)
    : client_(std::move(client)), cfg_(cfg) {}

FuseFs::~FuseFs() = default;

FuseFs* FsOf(fuse_req_t req) { return static_cast<FuseFs*>(fuse_req_userdata(req)); }

void AttrToStat(const fs::Attr& a, struct stat* st) {
  *st = {};
  st->st_ino = a.ino;
  st->st_mode = a.mode;
  st->st_nlink = a.nlink;
  st->st_uid = a.uid;
  st->st_gid = a.gid;
  st->st_rdev = a.rdev;
  st->st_size = static_cast<off_t>(a.size);
  st->st_blocks = static_cast<blkcnt_t>(a.blocks);
  st->st_blksize = 128 * 1024;  // one FUSE write round trip
  st->st_atim = NsToTimespec(a.atime_ns);
  st->st_mtim = NsToTimespec(a.mtime_ns);
  st->st_ctim = NsToTimespec(a.ctime_ns);
}

fs::Request FuseFs::NewRequest(fuse_req_t req, fs::Op op) const {
  fs::Request r;
  r.op = op;
  const fuse_ctx* ctx = fuse_req_ctx(req);
  r.creds.uid = ctx->uid;
  r.creds.gid = ctx->gid;
  if (ctx->uid != 0) {  // root passes every group check; spare it the /proc read
    gid_t groups[kMaxGroups];
    int n = fuse_req_getgroups(req, kMaxGroups, groups);
    for (int i = 0; i < n && i < kMaxGroups; i++) r.creds.groups.push_back(groups[i]);
  }
  return r;
}

int FuseFs::Call(const fs::Request& r, fs::Reply* rep) {
  const bool change = !fs::IsQuery(r.op);
  uint64_t reconnects = 0;
  if (change) reconnects = ChangeSent();
  StatusOr<fs::Reply> got = client_->Call(r);
  if (change) ChangeAnswered(got.ok() ? got->parent_attr : fs::Attr{}, reconnects);
  if (!got.ok()) {
    abandoned_++;  // its fate is unknown to this mount (SyncBarrier)
    LOG_WARN("fuse", "%s: %s", fs::OpName(r.op), got.status().ToString().c_str());
    return EIO;
  }
  *rep = std::move(*got);
  return rep->err;
}

int FuseFs::SyncBarrier(fuse_req_t req, fs::Ino ino) {
  // A call given up on (-o failover_timeout) is no longer awaited, but the
  // MDS may still apply it: then only a kFsync barrier says it is durable.
  const uint64_t abandoned = abandoned_.load();
  if (abandoned == abandoned_synced_.load() && client_->AllAnswered()) return 0;
  fs::Request r = NewRequest(req, fs::Op::kFsync);
  r.ino = ino;
  fs::Reply rep;
  int err = Call(r, &rep);
  if (err == 0) abandoned_synced_.store(abandoned);
  return err;
}

uint64_t FuseFs::ChangeSent() {
  const uint64_t reconnects = client_->stats().reconnects;
  std::lock_guard<std::mutex> l(parent_mu_);
  changes_sent_++;
  changes_unanswered_++;
  return reconnects;
}

// A directory's attributes from a change's reply are kept only when no other
// change of this mount is unanswered (one sent earlier but applied later
// could still change the directory) and the session did not reconnect during
// the call (the answer may then be one stored before an outage).
void FuseFs::ChangeAnswered(const fs::Attr& parent, uint64_t reconnects_before) {
  const bool same_connection = parent.ino != 0 && client_->stats().reconnects == reconnects_before;
  std::lock_guard<std::mutex> l(parent_mu_);
  if (same_connection && changes_unanswered_ == 1) {
    last_parent_ = {parent, changes_sent_, std::chrono::steady_clock::now()};
  }
  changes_unanswered_--;
}

bool FuseFs::TakeParentAttr(fs::Ino ino, fs::Attr* a, double* timeout_s) {
  std::lock_guard<std::mutex> l(parent_mu_);
  if (last_parent_.attr.ino != ino || last_parent_.sent_at != changes_sent_) return false;
  const double age_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_parent_.at).count();
  if (age_s >= cfg_.attr_timeout_s) return false;
  *a = last_parent_.attr;
  *timeout_s = cfg_.attr_timeout_s - age_s;
  last_parent_ = {};
  return true;
}

void FuseFs::FillEntry(const fs::Attr& a, fuse_entry_param* e) const {
  *e = {};
  e->ino = a.ino;
  e->generation = a.generation;
  AttrToStat(a, &e->attr);
  e->attr_timeout = cfg_.attr_timeout_s;
  e->entry_timeout = cfg_.entry_timeout_s;
}

void FuseFs::ReplyEntry(fuse_req_t req, const fs::Attr& a) {
  fuse_entry_param e;
  FillEntry(a, &e);
  AddLookup(a.ino, 1);
  NoteAttr(a);
  // A reply the kernel did not take (interrupted request) adds no reference.
  if (fuse_reply_entry(req, &e) != 0) Forget(a.ino, 1);
}

void FuseFs::ReplyAttr(fuse_req_t req, const fs::Attr& a, double timeout_s) {
  struct stat st;
  AttrToStat(a, &st);
  NoteAttr(a);
  fuse_reply_attr(req, &st, timeout_s < 0 ? cfg_.attr_timeout_s : timeout_s);
}

void FuseFs::AddLookup(fs::Ino ino, uint64_t n) {
  std::lock_guard<std::mutex> l(lookup_mu_);
  lookups_[ino].nlookup += n;
}

void FuseFs::NoteAttr(const fs::Attr& a) {
  std::lock_guard<std::mutex> l(lookup_mu_);
  auto it = lookups_.find(a.ino);
  if (it == lookups_.end()) return;
  it->second.size = a.size;
  it->second.mtime_ns = a.mtime_ns;
}

void FuseFs::RefreshIfChanged(const fs::Attr& a) {
  {
    std::lock_guard<std::mutex> l(lookup_mu_);
    auto it = lookups_.find(a.ino);
    if (it == lookups_.end()) return;  // the kernel has nothing cached for it
    if (it->second.size == a.size && it->second.mtime_ns == a.mtime_ns) return;
    it->second.size = a.size;
    it->second.mtime_ns = a.mtime_ns;
  }
  // Attributes only (offset < 0): takes no page locks, so it is safe from
  // inside the open handler.
  if (se_ != nullptr) fuse_lowlevel_notify_inval_inode(se_, a.ino, -1, 0);
}

void FuseFs::Forget(fs::Ino ino, uint64_t n) {
  std::lock_guard<std::mutex> l(lookup_mu_);
  auto it = lookups_.find(ino);
  if (it == lookups_.end() || it->second.nlookup < n) {
    LOG_WARN("fuse", "forget of %llu x%llu exceeds the %llu lookups counted", (unsigned long long)ino,
             (unsigned long long)n, (unsigned long long)(it == lookups_.end() ? 0 : it->second.nlookup));
    if (it != lookups_.end()) lookups_.erase(it);
    return;
  }
  it->second.nlookup -= n;
  if (it->second.nlookup == 0) lookups_.erase(it);
}

uint64_t FuseFs::LookupCount(fs::Ino ino) const {
  std::lock_guard<std::mutex> l(lookup_mu_);
  auto it = lookups_.find(ino);
  return it == lookups_.end() ? 0 : it->second.nlookup;
}

size_t FuseFs::LookupTableSize() const {
  std::lock_guard<std::mutex> l(lookup_mu_);
  return lookups_.size();
}

bool FuseFs::KnownWithoutCaps(fs::Ino ino) {
  std::lock_guard<std::mutex> l(caps_mu_);
  auto it = no_caps_until_.find(ino);
  if (it == no_caps_until_.end()) return false;
  if (std::chrono::steady_clock::now() < it->second) return true;
  no_caps_until_.erase(it);
  return false;
}

void FuseFs::NoteWithoutCaps(fs::Ino ino) {
  if (cfg_.attr_timeout_s <= 0) return;
  std::lock_guard<std::mutex> l(caps_mu_);
  if (no_caps_until_.size() >= 65536) no_caps_until_.clear();  // a bound, not an LRU: misses only cost a round trip
  no_caps_until_[ino] = std::chrono::steady_clock::now() +
                        std::chrono::microseconds(static_cast<int64_t>(cfg_.attr_timeout_s * 1e6));
}

void FuseFs::ForgetCaps(fs::Ino ino) {
  std::lock_guard<std::mutex> l(caps_mu_);
  no_caps_until_.erase(ino);
}

int FuseFs::OpenInode(fuse_req_t req, fs::Ino ino, int flags, fs::Attr* attr, bool check_access) {
  std::lock_guard<std::mutex> order(Stripe(ino));
  fs::Request r = NewRequest(req, fs::Op::kOpen);
  if (!check_access) r.creds = fs::Creds{};  // root: the MDS's permission check always passes
  r.ino = ino;
  r.flags = static_cast<uint32_t>(flags);
  fs::Reply rep;
  int err = Call(r, &rep);
  if (err != 0) return err;  // the MDS undoes a failed first open itself
  std::lock_guard<std::mutex> l(open_mu_);
  open_counts_[ino]++;
  if (attr) *attr = rep.attr;
  return 0;
}

void FuseFs::ReleaseInode(fs::Ino ino) {
  std::lock_guard<std::mutex> order(Stripe(ino));
  {
    std::lock_guard<std::mutex> l(open_mu_);
    auto it = open_counts_.find(ino);
    if (it == open_counts_.end()) return;
    if (--it->second > 0) return;
    open_counts_.erase(it);
    stripe_released_at_[ino % stripe_released_at_.size()] = ++releases_sent_;
  }
  fs::Request r;
  r.op = fs::Op::kRelease;
  r.ino = ino;
  // Posted, not awaited: close(2) need not wait for the MDS, and the stripe
  // lock held here keeps it ahead of any later open of the inode.
  Status s = client_->Post(r);
  if (!s.ok()) LOG_WARN("fuse", "release of %llu: %s", (unsigned long long)ino, s.ToString().c_str());
}

uint64_t FuseFs::ReleaseMark() {
  std::lock_guard<std::mutex> l(open_mu_);
  return releases_sent_;
}

int FuseFs::CountCreatedOpen(fuse_req_t req, fs::Ino ino, int flags, uint64_t mark) {
  static_assert(std::tuple_size_v<decltype(stripes_)> == std::tuple_size_v<decltype(stripe_released_at_)>);
  {
    std::lock_guard<std::mutex> order(Stripe(ino));
    std::lock_guard<std::mutex> l(open_mu_);
    if (stripe_released_at_[ino % stripe_released_at_.size()] <= mark) {
      open_counts_[ino]++;
      return 0;
    }
  }
  return OpenInode(req, ino, flags, nullptr, /*check_access=*/false);
}

}  // namespace baton::fuse
