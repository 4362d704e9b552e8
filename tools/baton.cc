// `baton`: the one executable. Subcommands: mkfs, mds, mount, fsck, journal,
// status, torture. Installed also as mkfs.baton, fsck.baton and mount.baton (chosen by
// argv[0]).
#include <cstdio>
#include <cstring>
#include <string>

#include "tools/commands.h"

namespace {

void Usage(FILE* out) {
  fprintf(out,
          "usage: baton COMMAND [ARGS]\n"
          "\n"
          "BatonFS: a journaled file system whose metadata server hands over like a baton.\n"
          "\n"
          "commands:\n"
          "  mkfs VOLUME [options]             create a volume (also: mkfs.baton)\n"
          "  mds VOLUME --listen ADDR:PORT     run a metadata server on a volume\n"
          "  mount ADDR:PORT[,...] DIR [-o ..] mount the file system (also: mount.baton)\n"
          "  fsck VOLUME [-n]                  check a volume (also: fsck.baton)\n"
          "  journal dump|verify|stat VOLUME   inspect the journal\n"
          "  status ADDR:PORT[,...]            role, epoch and LSNs of each MDS\n"
          "  torture [--seed N] [--states N]   crash-consistency torture of the write path\n"
          "  version                           print the version\n"
          "\n"
          "`baton COMMAND --help` describes each command.\n");
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
  if (argc < 2) {
    Usage(stderr);
    return 2;
  }
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
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    Usage(stdout);
    return 0;
  }
  fprintf(stderr, "baton: unknown command '%s'\n\n", cmd.c_str());
  Usage(stderr);
  return 2;
}
