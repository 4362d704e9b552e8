#include "volume/volume.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/log.h"
#include "fs/meta_store.h"
#include "volume/superblock_format.h"

namespace baton::volume {

namespace {

constexpr const char* kSuperblockName = "superblock";
constexpr const char* kLockName = "lock";
constexpr const char* kJournalDirName = "journal";
constexpr const char* kMetaDirName = "meta";

Status RandomVolumeId(journal::VolumeId* id) {
  if (getrandom(id->bytes, sizeof id->bytes, 0) != static_cast<ssize_t>(sizeof id->bytes))
    return Status::IOError("getrandom for the volume id", errno);
  id->bytes[6] = static_cast<uint8_t>((id->bytes[6] & 0x0f) | 0x40);  // RFC 4122 version 4
  id->bytes[8] = static_cast<uint8_t>((id->bytes[8] & 0x3f) | 0x80);
  return Status::Ok();
}

// mkfs refuses a directory holding anything unless forced; forced, it empties
// it. Removing a tree is not a durability-relevant step, so it uses
// std::filesystem directly rather than the Env seam.
Status PrepareDirectory(Env* env, const std::string& path, bool force) {
  if (!env->FileExists(path)) return env->CreateDir(path);
  BATON_ASSIGN_OR_RETURN(auto names, env->ListDir(path));
  if (names.empty()) return Status::Ok();
  const bool is_volume = env->FileExists(JoinPath(path, kSuperblockName));
  if (!force) {
    return Status::InvalidArgument(path + (is_volume ? " already holds a BatonFS volume" : " is not empty") +
                                   "; use --force to overwrite it (destroys its contents)");
  }
  std::error_code ec;
  for (const auto& n : names) {
    std::filesystem::remove_all(JoinPath(path, n), ec);
    if (ec) return Status::IOError("removing " + JoinPath(path, n) + ": " + ec.message());
  }
  return env->SyncDir(path);
}

Status ValidateMkfs(const MkfsOptions& o) {
  const uint32_t c = o.chunk_size_bytes;
  if (c < kChunkSizeMinBytes || c > kChunkSizeMaxBytes || (c & (c - 1)) != 0)
    return Status::InvalidArgument("chunk size must be a power of two between 4 KiB and 1 MiB");
  if (o.journal_segment_bytes < kJournalSegmentMinBytes)
    return Status::InvalidArgument("journal segment size must be at least 1 MiB");
  if (o.label.size() >= kSuperblockLabelBytes) return Status::InvalidArgument("label is longer than 63 bytes");
  if (o.meta_map_bytes < (1ull << 24)) return Status::InvalidArgument("metadata map size must be at least 16 MiB");
  return Status::Ok();
}

}  // namespace

StatusOr<Superblock> Volume::Create(Env* env, const std::string& path, const MkfsOptions& opts) {
  BATON_RETURN_IF_ERROR(ValidateMkfs(opts));
  BATON_RETURN_IF_ERROR(PrepareDirectory(env, path, opts.force));
  Superblock sb;
  sb.format_version = kSuperblockFormatVersion;
  if (opts.has_uuid) sb.volume_id = opts.uuid;
  else BATON_RETURN_IF_ERROR(RandomVolumeId(&sb.volume_id));
  sb.epoch = 1;
  sb.created_ns = env->NowRealtimeNanos();
  sb.chunk_size_bytes = opts.chunk_size_bytes;
  sb.journal_segment_bytes = opts.journal_segment_bytes;
  sb.meta_map_bytes = opts.meta_map_bytes;
  sb.label = opts.label;

  journal::JournalOptions jo;
  jo.env = env;
  jo.dir = JoinPath(path, kJournalDirName);
  jo.volume_id = sb.volume_id;
  jo.epoch = sb.epoch;
  jo.segment_size_bytes = sb.journal_segment_bytes;
  BATON_RETURN_IF_ERROR(journal::Journal::Create(jo));
  const std::string meta = JoinPath(path, kMetaDirName);
  BATON_RETURN_IF_ERROR(env->CreateDir(meta));
  fs::StoreOptions so;
  so.map_size_bytes = sb.meta_map_bytes;
  so.chunk_size_bytes = sb.chunk_size_bytes;
  so.volume_id.assign(reinterpret_cast<const char*>(sb.volume_id.bytes), sizeof sb.volume_id.bytes);
  BATON_RETURN_IF_ERROR(fs::MetaStore::Format(meta, so, opts.root_uid, opts.root_gid, sb.created_ns));
  {
    BATON_ASSIGN_OR_RETURN(auto lock, env->OpenFile(JoinPath(path, kLockName), OpenOptions{.create = true}));
    BATON_RETURN_IF_ERROR(lock->Close());
  }
  // The superblock comes last: a volume whose mkfs died half-way has none and
  // is never mistaken for a valid one. Both slots start valid (generations 1, 2).
  const std::string sb_path = JoinPath(path, kSuperblockName);
  for (uint64_t gen : {1, 2}) {
    sb.generation = gen;
    BATON_RETURN_IF_ERROR(WriteSuperblockSlot(env, sb_path, sb));
  }
  BATON_RETURN_IF_ERROR(env->SyncDir(path));
  return sb;
}

StatusOr<std::unique_ptr<Volume>> Volume::Open(Env* env, const std::string& path) {
  const std::string sb_path = JoinPath(path, kSuperblockName);
  if (!env->FileExists(path)) return Status::NotFound("volume " + path + " does not exist");
  if (!env->FileExists(sb_path))
    return Status::NotFound(path + " is not a BatonFS volume (no superblock; run `baton mkfs " + path + "`)");
  auto sb = ReadSuperblock(env, sb_path);
  if (!sb.ok()) {
    std::string m = "volume " + path + ": " + sb.status().message();
    return sb.status().code() == Code::kUnsupported ? Status::Unsupported(m) : Status::Corruption(m);
  }
  return std::unique_ptr<Volume>(new Volume(env, path, *sb));
}

Volume::~Volume() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

std::string Volume::journal_dir() const { return JoinPath(path_, kJournalDirName); }
std::string Volume::meta_dir() const { return JoinPath(path_, kMetaDirName); }

journal::JournalOptions Volume::journal_options() const {
  journal::JournalOptions jo;
  jo.env = env_;
  jo.dir = journal_dir();
  jo.volume_id = sb_.volume_id;
  jo.epoch = sb_.epoch;
  jo.segment_size_bytes = sb_.journal_segment_bytes;
  return jo;
}

fs::StoreOptions Volume::store_options(bool read_only) const {
  fs::StoreOptions so;
  so.map_size_bytes = sb_.meta_map_bytes;
  so.chunk_size_bytes = sb_.chunk_size_bytes;
  so.read_only = read_only;
  so.volume_id.assign(reinterpret_cast<const char*>(sb_.volume_id.bytes), sizeof sb_.volume_id.bytes);
  return so;
}

std::string Volume::DescribeLockHolder() const {
  auto text = ReadWholeFile(env_, JoinPath(path_, kLockName));
  if (!text.ok() || text->empty()) return "another process";
  std::string s = *text;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

Status Volume::TryLockWriter(const std::string& holder) { return LockWriter(holder, false); }
Status Volume::LockWriterBlocking(const std::string& holder) { return LockWriter(holder, true); }

// The writer lock is an open-file-description lock (F_OFD_SETLK): it belongs
// to this open file, is released by the kernel the instant the process dies,
// and is not dropped by closing some other descriptor of the same file (as a
// classic POSIX lock would be). The lock file is an OS facility, not volume
// data, so it is handled here directly and not through the Env seam.
Status Volume::LockWriter(const std::string& holder, bool wait) {
  if (lock_fd_ >= 0) return Status::Ok();
  const std::string path = JoinPath(path_, kLockName);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("open " + path, errno);
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  int rc;
  do {
    rc = ::fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
  } while (rc != 0 && errno == EINTR && wait);
  if (rc != 0) {
    int err = errno;
    ::close(fd);
    if (err == EAGAIN || err == EACCES)
      return Status::Busy("volume " + path_ + " is already served by another MDS (" + DescribeLockHolder() + ")");
    return Status::IOError("lock " + path, err);
  }
  std::string text = holder + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    LOG_WARN("volume", "could not record the lock holder in %s: %s", path.c_str(), strerror(errno));
  }
  lock_fd_ = fd;
  return Status::Ok();
}

Status Volume::SetEpoch(uint64_t epoch) {
  if (epoch <= sb_.epoch) return Status::InvalidArgument("epoch must increase");
  Superblock next = sb_;
  next.epoch = epoch;
  next.generation = sb_.generation + 1;
  BATON_RETURN_IF_ERROR(WriteSuperblockSlot(env_, JoinPath(path_, kSuperblockName), next));
  sb_ = next;
  return Status::Ok();
}

StatusOr<Superblock> Volume::ReloadSuperblock() {
  BATON_ASSIGN_OR_RETURN(Superblock sb, ReadSuperblock(env_, JoinPath(path_, kSuperblockName)));
  if (!(sb.volume_id == sb_.volume_id)) return Status::Corruption("superblock of " + path_ + " names another volume");
  sb_ = sb;  // a writer that just took the lock must build on the newest copy
  return sb;
}

}  // namespace baton::volume
