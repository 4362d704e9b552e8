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
    "Serves the volume VOLUME. Any number of MDSs may run on one volume: the\n"
    "first becomes the active, the others standbys. A standby keeps its own copy\n"
    "of the metadata (VOLUME/mds/NAME) up to date from the journal, tells clients\n"
    "where the active is, and takes over when the active dies (at once) or hangs\n"
    "(after --lease-ms): it raises the epoch, replays the journal tail and serves.\n"
    "An active that was taken over while it hung exits with status 3 when it\n"
    "resumes, without writing or answering anything.\n"
    "\n"
    "options:\n"
    "  --listen ADDR:PORT          address to serve on (default 127.0.0.1:7070)\n"
    "  --name NAME                 this MDS's name on the volume (default: the listen address, ':' -> '-')\n"
    "  --lease-ms N                take over an active whose heartbeat stood still this long (default 2000)\n"
    "  --exclusive                 exit 2 if another MDS is active instead of becoming a standby\n"
    "  --wait                      accepted for compatibility (standby is the default)\n"
    "  --checkpoint-interval-ms N  checkpoint (store sync + journal trim) at most this often (default 30000)\n"
    "  --orphan-grace-ms N         reclaim unlinked-but-open files left by a crash after N ms (default 30000)\n"
    "  --min-free-bytes SIZE       refuse space-consuming operations with ENOSPC when the file system\n"
    "                              holding VOLUME has less free space than this (default 256M) ...\n"
    "  --min-free-percent P        ... or less than P percent free (default 5); the larger reserve wins\n"
    "  --metrics ADDR:PORT         serve Prometheus metrics at http://ADDR:PORT/metrics (in every role; no\n"
    "                              authentication: use a loopback or trusted address; README.md lists them)\n"
    "  --log-level LEVEL           debug, info, warn, error (default info)\n"
    "\n"
    "signals: SIGTERM or SIGINT stop it cleanly (exit 0).\n"
    "exit status: 0 clean stop, 1 fail-stop (I/O error, corruption), 2 bad usage, address in use,\n"
    "or volume busy with --exclusive, 3 deposed (another MDS took over while this one hung)\n";
}  // namespace

int CmdMds(int argc, char** argv, int first) {
  Args a({"--wait", "--exclusive", "--help", "-h"}, {"--listen", "--name", "--lease-ms", "--checkpoint-interval-ms", "--orphan-grace-ms", "--log-level", "--min-free-bytes",
                                      "--min-free-percent", "--metrics"});
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
  uint64_t n;
  if (auto v = a.Get("--listen")) o.listen_addr = *v;
  o.standby = !a.Has("--exclusive");
  if (auto v = a.Get("--name")) o.name = *v;
  if (auto v = a.Get("--metrics")) {
    if (v->empty()) return fprintf(stderr, "baton mds: bad --metrics (give ADDR:PORT)\n"), 2;
    o.metrics_addr = *v;
  }
  if (auto v = a.Get("--lease-ms")) {
    if (!ParseU64(*v, &n) || n < 100 || n > 600000) return fprintf(stderr, "baton mds: bad --lease-ms (100..600000)\n"), 2;
    o.lease_ms = static_cast<uint32_t>(n);
  }
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
