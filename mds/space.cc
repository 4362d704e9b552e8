#include "mds/space.h"

#include <fcntl.h>
#include <sys/statvfs.h>

#include <algorithm>

#include "base/log.h"

namespace baton::mds {

SpaceGuard::SpaceGuard(Env* env, std::string path, uint64_t min_free_bytes, uint32_t min_free_percent)
    : env_(env), path_(std::move(path)), min_free_bytes_(min_free_bytes), min_free_percent_(min_free_percent) {}

bool ConsumesSpace(const fs::Request& req) {
  switch (req.op) {
    case fs::Op::kWrite:
    case fs::Op::kMknod:
    case fs::Op::kMkdir:
    case fs::Op::kSymlink:
    case fs::Op::kLink:
    case fs::Op::kSetxattr:
      return true;
    case fs::Op::kFallocate:
      return (req.flags & FALLOC_FL_PUNCH_HOLE) == 0;  // punching a hole frees space
    case fs::Op::kSetattr:
      return (req.set.valid & fs::kSetSize) != 0 && req.set.size != 0;  // truncate to 0 frees space
    default:
      return false;
  }
}

bool SpaceGuard::Refuses(const fs::Request& req) {
  if (!ConsumesSpace(req)) return false;
  uint64_t now = env_->NowMonotonicNanos();
  if (checked_ns_ == 0 || now - checked_ns_ >= kSpaceRecheckNs) {
    below_ = BelowReserve();
    checked_ns_ = now;
  }
  return below_;
}

bool SpaceGuard::BelowReserve() {
  struct statvfs sv {};
  if (::statvfs(path_.c_str(), &sv) != 0) {
    if (!said_) LOG_WARN("mds", "cannot query the free space of %s; the space reserve is not enforced", path_.c_str());
    said_ = true;
    return false;
  }
  uint64_t free_bytes = uint64_t{sv.f_bavail} * sv.f_frsize;
  uint64_t total_bytes = uint64_t{sv.f_blocks} * sv.f_frsize;
  uint64_t reserve = std::max(min_free_bytes_, total_bytes / 100 * min_free_percent_);
  bool below = free_bytes < reserve;
  if (below && !below_) {
    LOG_WARN("mds", "%s: %llu bytes free, below the reserve of %llu: answering ENOSPC to ops that consume space",
             path_.c_str(), static_cast<unsigned long long>(free_bytes), static_cast<unsigned long long>(reserve));
  }
  return below;
}

void LogVolumeFull(const std::string& volume_path) {
  LOG_ERROR("mds", "the file system holding %s is full: free space and restart the MDS", volume_path.c_str());
}

}  // namespace baton::mds
