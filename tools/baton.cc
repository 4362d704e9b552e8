// `baton`: the one executable. Subcommands: mkfs, mds, mount, fsck, journal,
// status, torture. Installed also as mkfs.baton, fsck.baton and mount.baton (chosen by
// argv[0]).
#include <cstdio>
#include <cstring>
#include <string>

#include "tools/commands.h"

namespace {

// The manual (`baton help`, `baton --help`), man-page style like every
// subcommand's.
const char* kHelp =
    "NAME\n"
    "  baton - administer BatonFS, a journaled cluster file system whose\n"
    "  metadata server hands over like a baton\n"
    "\n"
    "SYNOPSIS\n"
    "  baton COMMAND [ARGS]\n"
    "  baton COMMAND --help\n"
    "  baton help | --help | version | --version\n"
    "\n"
    "DESCRIPTION\n"
    "  One program for every BatonFS command. Installed also as mkfs.baton,\n"
    "  fsck.baton and mount.baton, it is then that command (chosen by its\n"
    "  name), so mkfs(8), fsck(8) and mount(8) find it as type baton.\n"
    "  'baton COMMAND --help' prints the manual of COMMAND.\n"
    "\n"
    "  Commands:\n"
    "  mkfs      create a volume (also mkfs.baton, mkfs -t baton)\n"
    "  mds       run a metadata server, active or standby, on a volume\n"
    "  mount     mount the file system through FUSE (also mount.baton,\n"
    "            mount -t baton)\n"
    "  fsck      check a volume (also fsck.baton, fsck -t baton)\n"
    "  journal   dump, verify or summarize a volume's journal\n"
    "  status    name, role, epoch, LSNs and lag of each MDS\n"
    "  torture   crash-consistency torture of the write path\n"
    "  version   print the version\n"
    "  help      print this manual\n"
    "\n"
    "OPTIONS\n"
    "  -h, --help\n"
    "        print this manual and exit (as 'baton help')\n"
    "  --version\n"
    "        print the version and exit (as 'baton version')\n"
    "\n"
    "EXIT STATUS\n"
    "  That of the command (see its manual); 2 for a missing or unknown\n"
    "  command.\n"
    "\n"
    "EXAMPLES\n"
    "  baton mkfs /srv/baton/volume\n"
    "  baton mds /srv/baton/volume --listen 127.0.0.1:7070 &\n"
    "  baton mount 127.0.0.1:7070 /mnt/baton\n"
    "  baton status 127.0.0.1:7070\n"
    "  baton fsck --help\n"
    "\n"
    "SEE ALSO\n"
    "  mkfs(8), fsck(8), mount(8), README.md (installed in\n"
    "  share/doc/batonfs)\n";

int UsageError(const std::string& why) {
  if (!why.empty()) fprintf(stderr, "baton: %s\n", why.c_str());
  fputs("usage: baton COMMAND [ARGS]\ntry 'baton --help'\n", stderr);
  return 2;
}

std::string Basename(const char* p) {
  const char* s = strrchr(p, '/');
  return s ? s + 1 : p;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace baton::tools;
  const std::string self = Basename(argv[0]);
  if (self == "mkfs.baton") return CmdMkfs(argc, argv, 1);
  if (self == "fsck.baton") return CmdFsck(argc, argv, 1);
  if (self == "mount.baton") return CmdMount(argc, argv, 1);
  if (argc < 2) return UsageError("");
  const std::string cmd = argv[1];
  if (cmd == "mkfs") return CmdMkfs(argc, argv, 2);
  if (cmd == "mds") return CmdMds(argc, argv, 2);
  if (cmd == "mount") return CmdMount(argc, argv, 2);
  if (cmd == "fsck") return CmdFsck(argc, argv, 2);
  if (cmd == "journal") return CmdJournal(argc, argv, 2);
  if (cmd == "status") return CmdStatus(argc, argv, 2);
  if (cmd == "torture") return CmdTorture(argc, argv, 2);
  if (cmd == "version" || cmd == "--version") {
    printf("baton 0.1.0\n");
    return 0;
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") return fputs(kHelp, stdout), 0;
  return UsageError("unknown command '" + cmd + "'");
}
