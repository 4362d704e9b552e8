// baton mkfs VOLUME: create a volume directory.
#include <unistd.h>

#include <cstdio>

#include "base/env.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "volume/volume.h"

namespace baton::tools {

namespace {

// The manual (`baton mkfs --help`), man-page style like every subcommand's.
const char* kHelp =
    "NAME\n"
    "  baton mkfs, mkfs.baton - create a BatonFS volume\n"
    "\n"
    "SYNOPSIS\n"
    "  baton mkfs [OPTIONS] VOLUME\n"
    "  mkfs.baton [OPTIONS] VOLUME\n"
    "  mkfs -t baton [OPTIONS] VOLUME\n"
    "\n"
    "DESCRIPTION\n"
    "  Creates a BatonFS volume in the directory VOLUME: the superblock (two\n"
    "  checksummed copies), an empty journal, and the LMDB metadata store with\n"
    "  the root directory (inode 1). Prints what it made. Refuses a non-empty\n"
    "  directory or an existing volume unless --force is given.\n"
    "\n"
    "  mkfs(8) runs mkfs.baton for 'mkfs -t baton', passing the options on.\n"
    "  A SIZE is a number of bytes with an optional suffix K, M, G or T\n"
    "  (powers of 1024).\n"
    "\n"
    "OPTIONS\n"
    "  -f, --force\n"
    "        overwrite: destroys everything in VOLUME\n"
    "  -L, --label TEXT\n"
    "        volume label (at most 63 bytes)\n"
    "  -U, --uuid UUID\n"
    "        use this volume id (for restores) instead of a random one\n"
    "  --chunk-size SIZE\n"
    "        file data chunk size, a power of two, 4K..1M (default 64K)\n"
    "  --journal-segment SIZE\n"
    "        journal segment size, at least 1M (default 64M)\n"
    "  --meta-map SIZE\n"
    "        map size of the metadata store, at least 16M (default 1T of\n"
    "        address space; the file grows as it is used); the store holds\n"
    "        about three quarters of it\n"
    "  --root-owner UID:GID\n"
    "        owner of the root directory (default 0:0)\n"
    "  -q, --quiet\n"
    "        print nothing on success\n"
    "  -t TYPE\n"
    "        accepted and ignored (the file system type, as mkfs(8) knows it)\n"
    "  -h, --help\n"
    "        print this manual and exit\n"
    "\n"
    "EXIT STATUS\n"
    "  0  the volume was created\n"
    "  1  refused (an existing volume, a non-empty directory) or failed\n"
    "  2  usage error\n"
    "\n"
    "EXAMPLES\n"
    "  baton mkfs /srv/baton/volume\n"
    "  mkfs -t baton -L data --meta-map 64G /srv/baton/volume\n"
    "  baton mkfs --force --uuid 415e6a35-da1b-4fe2-9cc5-53a249aea371 /srv/vol\n"
    "\n"
    "SEE ALSO\n"
    "  baton fsck --help, baton mds --help, baton journal --help, mkfs(8)\n";

const char* kUsage = "usage: baton mkfs [OPTIONS] VOLUME\n";

int UsageError(const std::string& why) { return tools::UsageError("mkfs", why, kUsage, 2); }

bool ParseOwner(const std::string& s, uint32_t* uid, uint32_t* gid) {
  auto colon = s.find(':');
  uint64_t u, g;
  if (colon == std::string::npos || !ParseU64(s.substr(0, colon), &u) || !ParseU64(s.substr(colon + 1), &g))
    return false;
  *uid = static_cast<uint32_t>(u);
  *gid = static_cast<uint32_t>(g);
  return true;
}

bool ParseMkfsOptions(const Args& a, volume::MkfsOptions* o, std::string* err) {
  o->force = a.Has("--force") || a.Has("-f");
  if (auto v = a.Get("--label")) o->label = *v;
  if (auto v = a.Get("-L")) o->label = *v;
  auto uuid = a.Get("--uuid") ? a.Get("--uuid") : a.Get("-U");
  if (uuid) {
    if (!volume::ParseVolumeId(*uuid, &o->uuid)) return *err = "bad --uuid " + *uuid, false;
    o->has_uuid = true;
  }
  uint64_t n;
  if (auto v = a.Get("--chunk-size")) {
    if (!ParseSize(*v, &n) || n > UINT32_MAX) return *err = "bad --chunk-size " + *v, false;
    o->chunk_size_bytes = static_cast<uint32_t>(n);
  }
  if (auto v = a.Get("--journal-segment")) {
    if (!ParseSize(*v, &o->journal_segment_bytes)) return *err = "bad --journal-segment " + *v, false;
  }
  if (auto v = a.Get("--meta-map")) {
    if (!ParseSize(*v, &o->meta_map_bytes)) return *err = "bad --meta-map " + *v, false;
  }
  if (auto v = a.Get("--root-owner")) {
    if (!ParseOwner(*v, &o->root_uid, &o->root_gid)) return *err = "bad --root-owner " + *v, false;
  }
  return true;
}

}  // namespace

int CmdMkfs(int argc, char** argv, int first) {
  Args a({"--force", "-f", "--quiet", "-q", "--help", "-h"},
         {"--label", "-L", "--uuid", "-U", "--chunk-size", "--journal-segment", "--meta-map", "--root-owner", "-t"});
  if (!a.Parse(argc, argv, first)) return UsageError(a.error());
  if (a.Has("--help") || a.Has("-h")) {
    fputs(kHelp, stdout);
    return 0;
  }
  if (a.positional().size() != 1) return UsageError("give exactly one VOLUME directory");
  volume::MkfsOptions o;
  std::string err;
  if (!ParseMkfsOptions(a, &o, &err)) {
    fprintf(stderr, "baton mkfs: %s\n", err.c_str());
    return 2;
  }
  const std::string path = a.positional()[0];
  auto sb = volume::Volume::Create(Env::Default(), path, o);
  if (!sb.ok()) {
    fprintf(stderr, "baton mkfs: %s\n", sb.status().ToString().c_str());
    return 1;
  }
  if (!a.Has("--quiet") && !a.Has("-q")) {
    printf("created BatonFS volume %s\n", path.c_str());
    printf("  volume id        %s\n", volume::FormatVolumeId(sb->volume_id).c_str());
    printf("  label            %s\n", sb->label.empty() ? "(none)" : sb->label.c_str());
    printf("  epoch            %llu\n", static_cast<unsigned long long>(sb->epoch));
    printf("  chunk size       %u bytes\n", sb->chunk_size_bytes);
    printf("  journal segment  %llu bytes\n", static_cast<unsigned long long>(sb->journal_segment_bytes));
    printf("  metadata map     %llu bytes\n", static_cast<unsigned long long>(sb->meta_map_bytes));
    printf("  made             %s/superblock, %s/journal/, %s/meta/ (root directory, inode 1)\n", path.c_str(),
           path.c_str(), path.c_str());
  }
  return 0;
}

}  // namespace baton::tools
