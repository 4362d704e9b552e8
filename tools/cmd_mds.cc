// baton mds VOLUME --listen ADDR:PORT: run a metadata server.
#include <unistd.h>

#include <cstdio>

#include "base/log.h"
#include "mds/mds.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace baton::tools {

namespace {
const char* kHelp =
    "usage: baton mds VOLUME --listen ADDR:PORT [options]\n"
    "\n"
    "Serves the volume VOLUME to clients. At start it takes the volume's writer\n"
    "lock, raises the epoch, replays every journal record not yet applied to the\n"
    "metadata store, then serves. If another MDS serves the volume it exits with\n"
    "status 2 and names the holder, unless --wait is given (then it waits for the\n"
    "lock, as a standby).\n"
    "\n"
    "options:\n"
    "  --listen ADDR:PORT          address to serve on (default 127.0.0.1:7070)\n"
    "  --wait                      wait for the writer lock instead of refusing\n"
    "  --checkpoint-interval-ms N  checkpoint (store sync + journal trim) at most this often (default 30000)\n"
    "  --orphan-grace-ms N         reclaim unlinked-but-open files left by a crash after N ms (default 30000)\n"
    "  --min-free-bytes SIZE       refuse space-consuming operations with ENOSPC when the file system\n"
    "                              holding VOLUME has less free space than this (default 256M) ...\n"
    "  --min-free-percent P        ... or less than P percent free (default 5); the larger reserve wins\n"
    "  --log-level LEVEL           debug, info, warn, error (default info)\n"
    "\n"
    "signals: SIGTERM or SIGINT stop it cleanly (exit 0).\n"
    "exit status: 0 clean stop, 1 fail-stop (I/O error, corruption), 2 volume busy or bad usage\n";
}  // namespace

int CmdMds(int argc, char** argv, int first) {
  Args a({"--wait", "--help", "-h"}, {"--listen", "--checkpoint-interval-ms", "--orphan-grace-ms", "--log-level", "--min-free-bytes",
                                      "--min-free-percent"});
  if (!a.Parse(argc, argv, first)) {
    fprintf(stderr, "baton mds: %s\n\n%s", a.error().c_str(), kHelp);
    return 2;
  }
  if (a.Has("--help") || a.Has("-h")) {
    fputs(kHelp, stdout);
    return 0;
  }
  if (a.positional().size() != 1) {
    fprintf(stderr, "baton mds: give exactly one VOLUME directory\n\n%s", kHelp);
    return 2;
  }
  mds::MdsOptions o;
  o.volume_path = a.positional()[0];
  if (auto v = a.Get("--listen")) o.listen_addr = *v;
  o.wait_for_lock = a.Has("--wait");
  uint64_t n;
  if (auto v = a.Get("--checkpoint-interval-ms")) {
    if (!ParseU64(*v, &n) || n > UINT32_MAX) return fprintf(stderr, "baton mds: bad --checkpoint-interval-ms\n"), 2;
    o.checkpoint_interval_ms = static_cast<uint32_t>(n);
  }
  if (auto v = a.Get("--orphan-grace-ms")) {
    if (!ParseU64(*v, &n) || n > UINT32_MAX) return fprintf(stderr, "baton mds: bad --orphan-grace-ms\n"), 2;
    o.orphan_grace_ms = static_cast<uint32_t>(n);
  }
  if (auto v = a.Get("--min-free-bytes")) {
    if (!ParseSize(*v, &o.min_free_bytes)) return fprintf(stderr, "baton mds: bad --min-free-bytes %s\n", v->c_str()), 2;
  }
  if (auto v = a.Get("--min-free-percent")) {
    if (!ParseU64(*v, &n) || n > 100) return fprintf(stderr, "baton mds: bad --min-free-percent %s\n", v->c_str()), 2;
    o.min_free_percent = static_cast<uint32_t>(n);
  }
  if (auto v = a.Get("--log-level")) {
    LogLevel level;
    if (!ParseLogLevel(v->c_str(), &level)) return fprintf(stderr, "baton mds: bad --log-level %s\n", v->c_str()), 2;
    SetLogLevel(level);
  }
  return mds::RunMds(o);
}

}  // namespace baton::tools
