// `baton mount` (and mount.baton): the FUSE client lives in fuse/; its
// manual and its usage errors are here, like every subcommand's.
#include <cstdio>
#include <cstring>
#include <string>

#include "fuse/fuse_fs.h"
#include "fuse/mount_options.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace baton::tools {

namespace {

// The manual (`baton mount --help`), man-page style like every subcommand's.
// The -o options are those of fuse/mount_options.cc (README "Mount options").
const char* kHelp =
    "NAME\n"
    "  baton mount, mount.baton - mount BatonFS through FUSE\n"
    "\n"
    "SYNOPSIS\n"
    "  baton mount ADDR:PORT[,ADDR:PORT...] MOUNTPOINT [-f] [-d] [-o OPTIONS]\n"
    "  mount -t baton ADDR:PORT[,ADDR:PORT...] MOUNTPOINT [-o OPTIONS]\n"
    "  mount.baton ADDR:PORT[,ADDR:PORT...] MOUNTPOINT [-sfnv] [-o OPTIONS]\n"
    "\n"
    "DESCRIPTION\n"
    "  Mounts the file system through FUSE. It waits up to connect_timeout\n"
    "  for an MDS at one of the addresses, mounts, and then runs in the\n"
    "  background (unless -f); it returns 0 only once the mount is up, and\n"
    "  otherwise prints why and leaves nothing mounted. 'umount MOUNTPOINT'\n"
    "  or 'fusermount3 -u MOUNTPOINT' ends it. The mount point must be an\n"
    "  empty directory unless -o nonempty.\n"
    "\n"
    "  When the MDS goes away the mount reconnects by itself (to any of the\n"
    "  addresses) and resends what was unanswered: programs see a pause, never\n"
    "  EIO, however long the outage (unless -o failover_timeout). To give up\n"
    "  on a mount while no MDS answers and programs wait inside it, stop the\n"
    "  daemon with SIGTERM or use 'umount -f'; the waiting calls then fail.\n"
    "\n"
    "  mount(8) runs mount.baton for 'mount -t baton' and for fstab lines of\n"
    "  type baton. As mount.baton, -f is mount(8)'s \"fake\" (check everything,\n"
    "  mount nothing), not \"foreground\".\n"
    "\n"
    "OPTIONS\n"
    "  -f\n"
    "        stay in the foreground, logging to stderr (as mount.baton: fake)\n"
    "  -d\n"
    "        foreground, and log every FUSE request (as -o debug)\n"
    "  -o OPTION[,OPTION...]\n"
    "        mount options, below (also -oOPTIONS; -o may be repeated)\n"
    "  -s, -n, -v\n"
    "        mount(8)'s sloppy, no-mtab and verbose flags: accepted, ignored\n"
    "  -t TYPE, -N NAMESPACE\n"
    "        as mount(8) passes them: accepted and ignored\n"
    "  -h, --help\n"
    "        print this manual and exit\n"
    "\n"
    "  Mount options:\n"
    "  -o allow_other\n"
    "        let users other than the one who mounted in (multi-user servers)\n"
    "  -o default_permissions\n"
    "        accepted; always on: the kernel checks permissions from its cached\n"
    "        attributes, and the MDS checks every request again\n"
    "  -o ro, -o rw\n"
    "        read-only or read-write mount (default rw)\n"
    "  -o attr_timeout=SEC\n"
    "        how long the kernel trusts cached attributes (default 1)\n"
    "  -o entry_timeout=SEC\n"
    "        how long the kernel trusts a cached name (default 1)\n"
    "  -o negative_timeout=SEC\n"
    "        how long the kernel trusts \"no such name\" (default 0)\n"
    "  -o connect_timeout=SEC\n"
    "        give up mounting if no MDS answers within this (default 10)\n"
    "  -o failover_timeout=SEC\n"
    "        fail calls with EIO once no MDS has been reachable for this long\n"
    "        (default: wait through any outage, like an NFS hard mount)\n"
    "  -o writeback_cache\n"
    "        experimental: let the kernel gather writes in its page cache; a\n"
    "        write is then durable at fsync or close, not when write(2)\n"
    "        returns\n"
    "  -o max_threads=N\n"
    "        FUSE worker threads, 1..256 (default 16)\n"
    "  -o log=/PATH\n"
    "        append the background daemon's log to this file (default: none;\n"
    "        with -f the log goes to stderr)\n"
    "  -o nonempty\n"
    "        allow mounting over a non-empty directory\n"
    "  -o debug\n"
    "        as -d\n"
    "  -o suid, -o nosuid, -o dev, -o nodev, -o exec, -o noexec, -o atime,\n"
    "  -o noatime, -o sync, -o async, -o dirsync\n"
    "        generic mount flags, passed to the kernel (FUSE's default is\n"
    "        nosuid,nodev)\n"
    "  -o defaults, -o auto, -o noauto, -o nofail, -o user, -o nouser,\n"
    "  -o users, -o _netdev, -o relatime, -o strictatime, -o diratime,\n"
    "  -o nodiratime, -o owner, -o group, -o x-*, -o comment=*\n"
    "        accepted and ignored (for fstab; x-* as in x-systemd.automount)\n"
    "\n"
    "EXIT STATUS\n"
    "  0  mounted (with -f: served until unmounted, then ended cleanly)\n"
    "  1  usage error, or nothing was mounted (no MDS answered, a bad mount\n"
    "     point, ...), or with -f the serving ended in an error\n"
    "\n"
    "EXAMPLES\n"
    "  baton mount 127.0.0.1:7070,127.0.0.1:7071 /mnt/baton -o allow_other\n"
    "  mount -t baton 127.0.0.1:7070,127.0.0.1:7071 /mnt/baton\n"
    "  baton mount 10.0.0.1:7070 /mnt/baton -f -o attr_timeout=0,entry_timeout=0\n"
    "  An /etc/fstab line:\n"
    "  127.0.0.1:7070,127.0.0.1:7071 /mnt/baton baton allow_other,_netdev 0 0\n"
    "\n"
    "SEE ALSO\n"
    "  baton mds --help, baton status --help, mount(8), umount(8),\n"
    "  fusermount3(1), fstab(5)\n";

const char* kUsage =
    "usage: baton mount ADDR:PORT[,ADDR:PORT...] MOUNTPOINT [-f] [-d] [-o OPTIONS]\n";

int UsageError(const std::string& why) { return tools::UsageError("mount", why, kUsage, 1); }

}  // namespace

int CmdMount(int argc, char** argv, int first) {
  for (int i = first; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return fputs(kHelp, stdout), 0;
  const char* slash = strrchr(argv[0], '/');
  const bool helper = strcmp(slash ? slash + 1 : argv[0], "mount.baton") == 0;
  // Parsing is pure: a bad command line is reported here with the short
  // usage; RunMount parses the same arguments again.
  StatusOr<fuse::MountConfig> parsed = fuse::ParseMountArgs(argc, argv, first, helper);
  if (!parsed.ok()) return UsageError(parsed.status().message());
  return fuse::RunMount(argc, argv, first);
}

}  // namespace baton::tools
