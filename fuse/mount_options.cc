#include "fuse/mount_options.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace baton::fuse {

namespace {

bool IsIgnored(std::string_view k) {
  static constexpr std::string_view kIgnored[] = {"defaults", "auto", "noauto", "nofail", "user", "nouser",
                                                  "users", "_netdev", "relatime", "strictatime", "nodiratime",
                                                  "diratime", "owner", "group", "comment"};
  for (auto i : kIgnored)
    if (k == i) return true;
  return k.substr(0, 2) == "x-" || k.substr(0, 8) == "comment=";
}

// Generic flags the kernel applies to any mount (libfuse passes them on).
bool IsKernelFlag(std::string_view k) {
  static constexpr std::string_view kFlags[] = {"suid", "nosuid", "dev", "nodev", "exec", "noexec",
                                                "async", "sync", "atime", "noatime", "dirsync"};
  for (auto i : kFlags)
    if (k == i) return true;
  return false;
}

Status ParseSeconds(std::string_view key, const std::string& v, double* out) {
  char* end = nullptr;
  errno = 0;
  double d = strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || errno != 0 || !std::isfinite(d) || d < 0 || d > 86400)
    return Status::InvalidArgument("mount option " + std::string(key) + "=" + v +
                                   ": expected seconds between 0 and 86400");
  *out = d;
  return Status::Ok();
}

Status ParseCount(std::string_view key, const std::string& v, uint32_t lo, uint32_t hi, uint32_t* out) {
  char* end = nullptr;
  errno = 0;
  unsigned long n = strtoul(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || n < lo || n > hi)
    return Status::InvalidArgument("mount option " + std::string(key) + "=" + v + ": expected " +
                                   std::to_string(lo) + ".." + std::to_string(hi));
  *out = static_cast<uint32_t>(n);
  return Status::Ok();
}

Status ApplyFlag(std::string_view k, MountConfig* cfg) {
  if (k == "allow_other") cfg->allow_other = true;
  else if (k == "default_permissions") cfg->default_permissions = true;
  else if (k == "ro") cfg->read_only = true;
  else if (k == "rw") cfg->read_only = false;
  else if (k == "nonempty") cfg->nonempty = true;
  else if (k == "writeback_cache") cfg->writeback_cache = true;
  else if (k == "debug") cfg->debug = cfg->foreground = true;
  else if (IsKernelFlag(k)) cfg->kernel_flags.emplace_back(k);
  else if (!IsIgnored(k)) return Status::InvalidArgument("unknown mount option '" + std::string(k) + "'");
  return Status::Ok();
}

Status ApplyOne(std::string_view opt, MountConfig* cfg) {
  size_t eq = opt.find('=');
  if (eq == std::string_view::npos) return ApplyFlag(opt, cfg);
  std::string_view k = opt.substr(0, eq);
  std::string v(opt.substr(eq + 1));
  if (k == "attr_timeout") return ParseSeconds(k, v, &cfg->attr_timeout_s);
  if (k == "entry_timeout") return ParseSeconds(k, v, &cfg->entry_timeout_s);
  if (k == "negative_timeout") return ParseSeconds(k, v, &cfg->negative_timeout_s);
  if (k == "connect_timeout") return ParseSeconds(k, v, &cfg->connect_timeout_s);
  if (k == "failover_timeout") return ParseSeconds(k, v, &cfg->failover_timeout_s);
  if (k == "max_threads") return ParseCount(k, v, 1, 256, &cfg->max_threads);
  if (k == "log") {
    if (v.empty() || v[0] != '/') return Status::InvalidArgument("mount option log=" + v + ": expected an absolute path");
    cfg->log_path = v;
    return Status::Ok();
  }
  if (IsIgnored(k)) return Status::Ok();
  return Status::InvalidArgument("unknown mount option '" + std::string(opt) + "'");
}

Status ParseSpec(const std::string& spec, MountConfig* cfg) {
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    std::string a = spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t colon = a.rfind(':');
    if (a.empty() || colon == std::string::npos || colon == 0 || colon + 1 == a.size())
      return Status::InvalidArgument("'" + spec + "' is not ADDR:PORT[,ADDR:PORT...]");
    cfg->addresses.push_back(a);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  cfg->spec = spec;
  return Status::Ok();
}

}  // namespace

Status ApplyMountOptions(const std::string& list, MountConfig* cfg) {
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    std::string_view opt = std::string_view(list).substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!opt.empty()) {
      Status s = ApplyOne(opt, cfg);
      if (!s.ok()) return s;
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return Status::Ok();
}

StatusOr<MountConfig> ParseMountArgs(int argc, char** argv, int first, bool as_mount_helper) {
  MountConfig cfg;
  std::vector<std::string> positional;
  for (int i = first; i < argc; i++) {
    std::string a = argv[i];
    if (a == "-o") {
      if (i + 1 >= argc) return Status::InvalidArgument("-o needs an option list");
      Status s = ApplyMountOptions(argv[++i], &cfg);
      if (!s.ok()) return s;
    } else if (a.size() > 2 && a.substr(0, 2) == "-o") {
      Status s = ApplyMountOptions(a.substr(2), &cfg);
      if (!s.ok()) return s;
    } else if (a == "-t" || a == "-N") {
      i++;  // mount(8): type (baton or fuse.baton) / namespace: nothing to do
    } else if (a == "-f") {
      (as_mount_helper ? cfg.fake : cfg.foreground) = true;
    } else if (a == "-d") {
      cfg.debug = cfg.foreground = true;
    } else if (a == "-s" || a == "-n" || a == "-v") {
      // mount(8): sloppy, no mtab, verbose
    } else if (!a.empty() && a[0] == '-') {
      return Status::InvalidArgument("unknown flag '" + a + "'");
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 2) return Status::InvalidArgument("expected ADDR:PORT[,...] and MOUNTPOINT");
  Status s = ParseSpec(positional[0], &cfg);
  if (!s.ok()) return s;
  cfg.mountpoint = positional[1];
  return cfg;
}

}  // namespace baton::fuse
