// baton mds VOLUME --listen ADDR:PORT: run a metadata server.
#include <unistd.h>

#include <cstdio>

#include "base/log.h"
#include "mds/mds.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace baton::tools {

namespace {
// The manual (`baton mds --help`), man-page style like every subcommand's.
const char* kHelp =
    "NAME\n"
    "  baton mds - run a BatonFS metadata server (MDS)\n"
    "\n"
    "SYNOPSIS\n"
    "  baton mds VOLUME [--listen ADDR:PORT] [--name NAME] [OPTIONS]\n"
    "\n"
    "DESCRIPTION\n"
    "  Serves the volume VOLUME. Any number of MDSs may run on one volume, on\n"
    "  one machine or on machines sharing the volume's storage: the first\n"
    "  becomes the active, the others standbys. Each keeps its own copy of the\n"
    "  metadata in VOLUME/mds/NAME/meta (a new one is seeded by copying the\n"
    "  most advanced copy). A standby follows the journal as the active writes\n"
    "  it, tells clients where the active is, and takes over when the active\n"
    "  dies (at once) or hangs (after the lease): it raises the epoch, replays\n"
    "  the records it had not applied yet and serves. An active that was taken\n"
    "  over while it hung exits with status 3 when it resumes, without writing\n"
    "  or answering anything; restarted, it rejoins as a standby.\n"
    "\n"
    "  The listen address, then the metrics address, is bound first: an\n"
    "  address in use fails (status 2) before anything is written. A failed\n"
    "  journal write or fsync stops the MDS at once (status 1): it never\n"
    "  carries on after an I/O error. SIGTERM or SIGINT stop it cleanly.\n"
    "  Logs go to stderr, one line each. A SIZE is a number of bytes with an\n"
    "  optional suffix K, M, G or T (powers of 1024).\n"
    "\n"
    "OPTIONS\n"
    "  --listen ADDR:PORT\n"
    "        address to serve clients on (default 127.0.0.1:7070)\n"
    "  --name NAME\n"
    "        this MDS's name on the volume, 1 to 64 of A-Z a-z 0-9 . _ -\n"
    "        (default: the listen address with ':' turned into '-')\n"
    "  --lease-ms N\n"
    "        take over an active whose heartbeat stood still this long,\n"
    "        100..600000 (default 2000)\n"
    "  --exclusive\n"
    "        exit with status 2, naming the holder, if another MDS is active,\n"
    "        instead of becoming a standby\n"
    "  --wait\n"
    "        accepted for compatibility (standby is the default)\n"
    "  --checkpoint-interval-ms N\n"
    "        checkpoint (store sync and journal trim) at most this often\n"
    "        (default 30000)\n"
    "  --store-commit-ms N\n"
    "        commit the metadata store about N ms after its first change,\n"
    "        checked between group commits, 0..60000;\n"
    "        replies wait only for the journal, which already makes them\n"
    "        durable; 0 commits (and syncs) the store before every reply\n"
    "        (default 50)\n"
    "  --orphan-grace-ms N\n"
    "        reclaim files a crash left unlinked but open after N ms\n"
    "        (default 30000)\n"
    "  --min-free-bytes SIZE\n"
    "        space-consuming operations get ENOSPC, without being journaled,\n"
    "        once the file system holding VOLUME has less free space than the\n"
    "        larger of this (default 256M) and the free percentage below\n"
    "  --min-free-percent P\n"
    "        the same reserve as a percentage of that file system, 0..100\n"
    "        (default 5)\n"
    "  --metrics ADDR:PORT\n"
    "        serve Prometheus metrics at http://ADDR:PORT/metrics in every\n"
    "        role; no authentication: use a loopback or trusted address\n"
    "        (README.md lists the metrics)\n"
    "  --log-level LEVEL\n"
    "        debug, info, warn or error (default info)\n"
    "  -h, --help\n"
    "        print this manual and exit\n"
    "\n"
    "EXIT STATUS\n"
    "  0  stopped cleanly by SIGTERM or SIGINT\n"
    "  1  fail-stop: an I/O error or corruption\n"
    "  2  it did not start: a usage error, a volume it cannot open, an\n"
    "     address or NAME in use, a store of another volume, or (with\n"
    "     --exclusive) another MDS active\n"
    "  3  deposed: another MDS took over while this one hung\n"
    "\n"
    "EXAMPLES\n"
    "  baton mds /srv/baton/volume --listen 10.0.0.1:7070 --name mds-a\n"
    "  baton mds /srv/baton/volume --listen 10.0.0.2:7070 --name mds-b \\\n"
    "      --lease-ms 1000 --metrics 127.0.0.1:9100\n"
    "  systemctl enable --now baton-mds@a   (settings in /etc/batonfs/mds-a.conf)\n"
    "\n"
    "SEE ALSO\n"
    "  baton status --help, baton mkfs --help, baton journal --help,\n"
    "  baton mount --help, systemctl(1)\n";

const char* kUsage = "usage: baton mds VOLUME [--listen ADDR:PORT] [--name NAME] [OPTIONS]\n";

int UsageError(const std::string& why) { return tools::UsageError("mds", why, kUsage, 2); }
}  // namespace

int CmdMds(int argc, char** argv, int first) {
  Args a({"--wait", "--exclusive", "--help", "-h"}, {"--listen", "--name", "--lease-ms", "--checkpoint-interval-ms", "--store-commit-ms", "--orphan-grace-ms", "--log-level", "--min-free-bytes",
                                      "--min-free-percent", "--metrics"});
  if (!a.Parse(argc, argv, first)) return UsageError(a.error());
  if (a.Has("--help") || a.Has("-h")) {
    fputs(kHelp, stdout);
    return 0;
  }
  if (a.positional().size() != 1) return UsageError("give exactly one VOLUME directory");
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
  if (auto v = a.Get("--store-commit-ms")) {
    if (!ParseU64(*v, &n) || n > 60000) return fprintf(stderr, "baton mds: bad --store-commit-ms (0..60000)\n"), 2;
    o.store_commit_interval_ms = static_cast<uint32_t>(n);
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
