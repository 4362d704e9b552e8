// baton mkfs VOLUME: create a volume directory.
#include <unistd.h>

#include <cstdio>

#include "base/env.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "volume/volume.h"

namespace baton::tools {

namespace {

const char* kHelp =
    "usage: baton mkfs VOLUME [options]        (also: mkfs.baton VOLUME)\n"
    "\n"
    "Creates a BatonFS volume in the directory VOLUME: superblock, journal,\n"
    "metadata store with the root directory. Refuses a non-empty directory or\n"
    "an existing volume unless --force is given.\n"
    "\n"
    "options:\n"
    "  -f, --force              overwrite (destroys everything in VOLUME)\n"
    "  -L, --label TEXT         volume label (at most 63 bytes)\n"
    "  -U, --uuid UUID          use this volume id (for restores) instead of a random one\n"
    "  --chunk-size SIZE        file data chunk size, power of two, 4K..1M (default 64K)\n"
    "  --journal-segment SIZE   journal segment size, >= 1M (default 64M)\n"
    "  --meta-map SIZE          metadata store map size = capacity limit (default 1T)\n"
    "  --root-owner UID:GID     owner of the root directory (default 0:0)\n"
    "  -q, --quiet              print nothing on success\n"
    "\n"
    "exit status: 0 created, 1 refused or failed, 2 bad usage\n";

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
  if (!a.Parse(argc, argv, first)) {
    fprintf(stderr, "baton mkfs: %s\n\n%s", a.error().c_str(), kHelp);
    return 2;
  }
  if (a.Has("--help") || a.Has("-h")) {
    fputs(kHelp, stdout);
    return 0;
  }
  if (a.positional().size() != 1) {
    fprintf(stderr, "baton mkfs: give exactly one VOLUME directory\n\n%s", kHelp);
    return 2;
  }
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
