#include "mds/election.h"

#include "journal/journal_tail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/log.h"
#include "volume/superblock.h"

namespace baton::mds {

namespace {

constexpr const char* kLockName = "lock";
constexpr const char* kTakeoverLockName = "takeover.lock";

// F_OFD_SETLK on the whole file; true when taken, false when busy.
StatusOr<bool> TryOfdLock(int fd, const std::string& path) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (::fcntl(fd, F_OFD_SETLK, &fl) == 0) return true;
  if (errno == EAGAIN || errno == EACCES) return false;
  return Status::IOError("lock " + path, errno);
}

void OfdUnlock(int fd) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_UNLCK;
  fl.l_whence = SEEK_SET;
  ::fcntl(fd, F_OFD_SETLK, &fl);
}

std::string ReadText(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[512];
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  ::close(fd);
  std::string s(buf, n > 0 ? static_cast<size_t>(n) : 0);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

uint64_t NowNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

}  // namespace

StatusOr<int> TryLockTakeover(const std::string& volume_path) {
  const std::string path = JoinPath(volume_path, kTakeoverLockName);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("open " + path, errno);
  StatusOr<bool> got = TryOfdLock(fd, path);
  if (got.ok() && *got) return fd;
  ::close(fd);
  if (!got.ok()) return got.status();
  return -1;
}

StatusOr<uint64_t> NextWriterEpoch(Env* env, const std::string& journal_dir, const volume::Superblock& fresh) {
  BATON_ASSIGN_OR_RETURN(uint64_t journal_epoch, journal::NewestSegmentEpoch(env, journal_dir, fresh.volume_id));
  return std::max(fresh.epoch, journal_epoch) + 1;
}

uint32_t HeartbeatIntervalMs(uint32_t lease_ms) { return std::clamp<uint32_t>(lease_ms / 40, 10, 50); }

std::string HolderNameFromText(const std::string& text) {
  size_t p = text.find("name=");
  if (p == std::string::npos) return "";
  size_t e = text.find_first_of(" \n", p);
  return text.substr(p + 5, e == std::string::npos ? std::string::npos : e - p - 5);
}

StatusOr<int> LockMdsName(const std::string& volume_path, const std::string& name, const std::string& address) {
  const std::string mds_dir = JoinPath(volume_path, kMdsDirName);
  for (const std::string& d : {mds_dir, MdsDir(volume_path, name)}) {
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) return Status::IOError("mkdir " + d, errno);
  }
  const std::string path = JoinPath(MdsDir(volume_path, name), "name.lock");
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("open " + path, errno);
  StatusOr<bool> got = TryOfdLock(fd, path);
  if (!got.ok() || !*got) {
    ::close(fd);
    if (!got.ok()) return got.status();
    return Status::Busy("another MDS named " + name + " runs on " + volume_path + " (" + ReadText(path) +
                        "); give each MDS its own --name");
  }
  std::string text = "address=" + address + " pid=" + std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) < 0) {
    // Only a description: the lock is what counts.
  }
  return fd;
}

// ---- Lease ----

Lease::Lease(Env* env, ElectionOptions options, int lock_fd)
    : env_(env), options_(std::move(options)), lock_fd_(lock_fd) {
  renewed_ns_.store(NowNs());
}

Lease::~Lease() {
  StopHeartbeat();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void Lease::set_epoch(uint64_t epoch) { epoch_.store(epoch); }

bool Lease::WriteHolderText() {
  std::string text = "name=" + options_.name + " address=" + options_.address + " pid=" + std::to_string(::getpid()) +
                     " epoch=" + std::to_string(epoch_.load()) + "\n";
  if (::ftruncate(lock_fd_, 0) != 0 ||
      ::pwrite(lock_fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    LOG_WARN("mds", "could not record the holder in %s/lock: %s", options_.volume_path.c_str(), strerror(errno));
    return false;
  }
  return true;
}

void Lease::StartHeartbeat(std::function<MdsInfo()> snapshot) {
  snapshot_ = std::move(snapshot);
  stop_.store(false);
  info_ = std::make_unique<MdsInfoWriter>(env_, options_.volume_path, options_.name, options_.volume_id);
  Beat();
  thread_ = std::thread([this] {
    const auto interval = std::chrono::milliseconds(HeartbeatIntervalMs(options_.lease_ms));
    std::unique_lock<std::mutex> l(stop_mu_);
    while (!stop_.load()) {
      stop_cv_.wait_for(l, interval, [this] { return stop_.load(); });
      if (stop_.load()) break;
      l.unlock();
      Beat();
      l.lock();
    }
  });
}

void Lease::StopHeartbeat() {
  {
    std::lock_guard<std::mutex> l(stop_mu_);
    stop_.store(true);
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

// Renews the lease only when everything a standby judges this MDS by holds:
// the fence (superblock epoch, lock file), the lock text naming this MDS, and
// a heartbeat written to the info file the path names. A standby can only
// see a heartbeat stand still for lease_ms if this MDS's lease lapsed first.
void Lease::Beat() {
  uint64_t start = NowNs();  // a renewal counts from before its check
  if (!CheckFence()) return;
  if (HolderNameFromText(ReadText(JoinPath(options_.volume_path, kLockName))) != options_.name &&
      !WriteHolderText())
    return;
  if (snapshot_) {
    Status st = info_->Write(snapshot_());
    if (!st.ok()) {
      LOG_WARN("mds", "cannot publish the heartbeat (the lease is not renewed): %s", st.ToString().c_str());
      return;
    }
  }
  renewed_ns_.store(start);
}

bool Lease::Fresh() const {
  return NowNs() - renewed_ns_.load() < uint64_t{options_.lease_ms} * 1000000 / 2;
}

void Lease::WaitFresh() const {
  while (!Fresh()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

bool Lease::CheckFence() {
  const std::string lock_path = JoinPath(options_.volume_path, kLockName);
  struct stat ours, now;
  if (::fstat(lock_fd_, &ours) != 0) {
    LOG_WARN("mds", "fence check: cannot fstat the volume lock: %s", strerror(errno));
    renewed_ns_.store(0);
    return false;
  }
  if (::stat(lock_path.c_str(), &now) != 0) {
    if (errno == ENOENT) Deposed("the volume lock " + lock_path + " was removed (another MDS may have made a new one)");
    LOG_WARN("mds", "fence check: cannot stat %s: %s", lock_path.c_str(), strerror(errno));
    renewed_ns_.store(0);
    return false;
  }
  if (ours.st_ino != now.st_ino || ours.st_dev != now.st_dev)
    Deposed("another MDS replaced the volume lock (" + ReadText(lock_path) + ")");
  uint64_t mine = epoch_.load();
  if (mine == 0) return true;
  StatusOr<volume::Superblock> sb = volume::ReadSuperblock(env_, JoinPath(options_.volume_path, "superblock"));
  if (!sb.ok()) {
    // Not proof of a takeover, nor of its absence: answer nothing, renew nothing.
    LOG_WARN("mds", "fence check: cannot read the superblock: %s", sb.status().ToString().c_str());
    renewed_ns_.store(0);
    return false;
  }
  if (sb->epoch != mine)
    Deposed("the volume is at epoch " + std::to_string(sb->epoch) + ", this MDS serves epoch " + std::to_string(mine));
  return true;
}

void Lease::ConfirmFence() {
  const uint64_t deadline = NowNs() + uint64_t{options_.lease_ms} * 1000000;
  while (!CheckFence()) {
    if (NowNs() > deadline) {
      LOG_ERROR("mds", "fail-stop: the fence cannot be checked for %u ms; exiting without answering", options_.lease_ms);
      std::_Exit(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void Lease::Deposed(const std::string& why) {
  LOG_ERROR("mds", "deposed: %s; stepping down without writing or answering anything more (exit %d)", why.c_str(),
            kDeposedExitCode);
  std::_Exit(kDeposedExitCode);
}

// ---- Election ----

Election::Election(Env* env, ElectionOptions options) : env_(env), options_(std::move(options)) {}

Election::~Election() {
  if (takeover_fd_ >= 0) ::close(takeover_fd_);
}

std::string Election::DescribeHolder() const {
  std::string t = ReadText(JoinPath(options_.volume_path, kLockName));
  return t.empty() ? "another process" : t;
}

std::string Election::HolderName() const {
  return HolderNameFromText(ReadText(JoinPath(options_.volume_path, kLockName)));
}

StatusOr<std::unique_ptr<Lease>> Election::Poll() {
  const std::string tpath = JoinPath(options_.volume_path, kTakeoverLockName);
  if (takeover_fd_ < 0) {
    takeover_fd_ = ::open(tpath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (takeover_fd_ < 0) return Status::IOError("open " + tpath, errno);
  }
  BATON_ASSIGN_OR_RETURN(bool mine, TryOfdLock(takeover_fd_, tpath));
  if (!mine) return std::unique_ptr<Lease>();  // another standby is deciding
  StatusOr<std::unique_ptr<Lease>> r = PollLocked();
  // Name the new holder at once (the epoch follows once raised): standbys
  // watch the heartbeat of the MDS the lock text names.
  if (r.ok() && *r) (*r)->WriteHolderText();
  OfdUnlock(takeover_fd_);
  return r;
}

StatusOr<std::unique_ptr<Lease>> Election::PollLocked() {
  const std::string path = JoinPath(options_.volume_path, kLockName);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("open " + path, errno);
  StatusOr<bool> got = TryOfdLock(fd, path);
  if (!got.ok() || *got) {
    if (!got.ok()) {
      ::close(fd);
      return got.status();
    }
    // Replacements happen only under takeover.lock, which we hold: fd is
    // still the file at `path`.
    seen_any_ = false;
    return std::make_unique<Lease>(env_, options_, fd);
  }
  struct stat st;
  uint64_t ino = ::fstat(fd, &st) == 0 ? st.st_ino : 0;
  ::close(fd);
  // Busy: is the holder alive? Watch its heartbeat move.
  const uint64_t now = NowNs();
  std::string holder = HolderNameFromText(ReadText(path));
  uint64_t hb = 0;
  if (!holder.empty()) {
    StatusOr<MdsInfo> info = ReadMdsInfo(env_, options_.volume_path, holder, options_.volume_id);
    if (info.ok()) hb = info->heartbeat;
  }
  if (!seen_any_ || ino != seen_ino_ || holder != seen_holder_ || hb != seen_heartbeat_) {
    seen_any_ = true;
    seen_ino_ = ino;
    seen_holder_ = holder;
    seen_heartbeat_ = hb;
    seen_change_ns_ = now;
    return std::unique_ptr<Lease>();
  }
  uint64_t silent_ms = (now - seen_change_ns_) / 1000000;
  if (silent_ms < options_.lease_ms) return std::unique_ptr<Lease>();
  return Replace(holder, silent_ms);
}

// The holder hangs: a new lock file, locked, renamed over the volume's lock.
StatusOr<std::unique_ptr<Lease>> Election::Replace(const std::string& holder, uint64_t silent_ms) {
  const std::string path = JoinPath(options_.volume_path, kLockName);
  const std::string tmp = path + "." + options_.name + ".new";
  int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("open " + tmp, errno);
  StatusOr<bool> got = TryOfdLock(fd, tmp);
  if (!got.ok() || !*got) {
    ::close(fd);
    return got.ok() ? Status::Busy(tmp + " is locked by another process") : got.status();
  }
  if (::fsync(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::close(fd);
    return Status::IOError("replace " + path, err);
  }
  Status st = env_->SyncDir(options_.volume_path);
  if (!st.ok()) {
    ::close(fd);
    return st;
  }
  LOG_WARN("mds", "the active MDS %s has not renewed its heartbeat for %llu ms (lease %u ms): taking over",
           holder.empty() ? "(unnamed)" : holder.c_str(), static_cast<unsigned long long>(silent_ms), options_.lease_ms);
  seen_any_ = false;
  return std::make_unique<Lease>(env_, options_, fd);
}

}  // namespace baton::mds
