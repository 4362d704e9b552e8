#include "fs/posix_rules.h"

namespace baton::fs {

int CheckAccess(const Attr& a, const Creds& c, int mask) {
  if (c.uid == 0) {
    if ((mask & kMayExec) && !IsDir(a.mode) && (a.mode & 0111) == 0) return EACCES;
    return 0;
  }
  uint32_t bits;
  if (c.uid == a.uid) {
    bits = (a.mode >> 6) & 7;
  } else if (c.InGroup(a.gid)) {
    bits = (a.mode >> 3) & 7;
  } else {
    bits = a.mode & 7;
  }
  return (bits & static_cast<uint32_t>(mask)) == static_cast<uint32_t>(mask) ? 0 : EACCES;
}

bool IsOwnerOrRoot(const Attr& a, const Creds& c) { return c.uid == 0 || c.uid == a.uid; }

int CheckSticky(const Attr& dir, const Attr& victim, const Creds& c) {
  if ((dir.mode & S_ISVTX) == 0 || c.uid == 0 || c.uid == dir.uid || c.uid == victim.uid) return 0;
  return EPERM;
}

int CheckName(std::string_view name) {
  if (name.empty()) return EINVAL;
  if (name.size() > kNameMaxBytes) return ENAMETOOLONG;
  for (char ch : name)
    if (ch == '/' || ch == '\0') return EINVAL;
  return 0;
}

uint32_t KillPriv(uint32_t mode) {
  mode &= ~static_cast<uint32_t>(S_ISUID);
  if (mode & S_IXGRP) mode &= ~static_cast<uint32_t>(S_ISGID);
  return mode;
}

}  // namespace baton::fs
