// POSIX permission and naming rules shared by apply() and the queries.
// Each returns 0 or a positive errno. Pure functions of their arguments.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string_view>

#include "fs/ops.h"

namespace baton::fs {

constexpr int kMayRead = 4, kMayWrite = 2, kMayExec = 1;
constexpr uint32_t kLinkMax = 65000;

inline bool IsDir(uint32_t mode) { return S_ISDIR(mode); }
inline bool IsReg(uint32_t mode) { return S_ISREG(mode); }

// rwx check of mask (kMayRead|kMayWrite|kMayExec). uid 0 passes, except that
// exec of a non-directory needs some x bit. EACCES on failure.
int CheckAccess(const Attr& a, const Creds& c, int mask);
bool IsOwnerOrRoot(const Attr& a, const Creds& c);
// Sticky directory: only the owner of the victim or of the directory, or
// root, may remove or rename the victim. EPERM on failure.
int CheckSticky(const Attr& dir, const Attr& victim, const Creds& c);
// A new entry name: EINVAL if empty or holds '/' or NUL, ENAMETOOLONG past 255.
int CheckName(std::string_view name);
inline bool IsDotOrDotDot(std::string_view n) { return n == "." || n == ".."; }
// Mode after a non-root write/truncate/chown: setuid dropped, setgid dropped
// when group-exec is set (otherwise it means mandatory locking).
uint32_t KillPriv(uint32_t mode);

}  // namespace baton::fs
