// baton torture: the crash-consistency torture harness (torture/), for users.
#include <cstdio>
#include <iostream>
#include <sstream>

#include "tools/args.h"
#include "tools/commands.h"
#include "torture/runner.h"

namespace baton::tools {

namespace {

// The manual (`baton torture --help`), man-page style like every
// subcommand's.
const char* kHelp =
    "NAME\n"
    "  baton torture - crash-consistency torture of the write path\n"
    "\n"
    "SYNOPSIS\n"
    "  baton torture [--seed N] [--states N]\n"
    "                [--model prefix|realistic|adversarial|all]\n"
    "                [--workload ace1|ace2|ace3|random] [--long] [--shard K/N]\n"
    "                [--dir DIR] [--recovery-every N] [--store-commit-records N]\n"
    "                [--no-shrink] [--quiet]\n"
    "\n"
    "DESCRIPTION\n"
    "  Runs BatonFS's write path (journal, group commit, apply into LMDB) in\n"
    "  this process on a scratch volume, records every write, sync, directory\n"
    "  sync, creation, rename and removal, and at every I/O boundary builds the\n"
    "  states a power loss could leave (under the chosen fault models),\n"
    "  recovers each as a taking-over MDS would, and checks that recovery\n"
    "  succeeds, fsck finds nothing, every acknowledged operation is there\n"
    "  byte-exact, the store is a prefix of the journal order, the request in\n"
    "  flight re-sent is applied once, and crashes inside recovery change\n"
    "  nothing. docs/TESTING.md has the details.\n"
    "\n"
    "  It prints progress every 5 s and crash states checked per second. For\n"
    "  a failure it prints what failed, the workload, the fault model, the\n"
    "  crash point with the I/O events before it, a shrunk workload and the\n"
    "  command to repeat it.\n"
    "\n"
    "OPTIONS\n"
    "  --seed N\n"
    "        orders the workloads and drives every random choice (default 1)\n"
    "  --states N\n"
    "        stop after N crash states (default: the whole workload set)\n"
    "  --model M\n"
    "        one fault model, prefix, realistic or adversarial, or all three\n"
    "        (default all)\n"
    "  --workload W\n"
    "        ace1, ace2 (default), ace3: every sequence of 1, 2 or 3\n"
    "        operations from the catalogue, each followed by fsync, fsyncdir\n"
    "        or nothing; random: seeded random workloads (fsstress-like)\n"
    "  --long\n"
    "        also fdatasync, more samples per crash point, crashes inside\n"
    "        recovery three levels deep, 4x longer random workloads\n"
    "  --shard K/N\n"
    "        run only workloads K, K+N, K+2N, ... (split a run over cores)\n"
    "  --dir DIR\n"
    "        scratch directory (default /dev/shm, else /tmp)\n"
    "  --recovery-every N\n"
    "        crash inside the recovery of one state in N (default 8; 2 with\n"
    "        the long run); those crashes are most of the states checked\n"
    "  --store-commit-records N\n"
    "        run the MDS's deferred store commit: replies before the store\n"
    "        commits, a commit once the open transaction would pass N records\n"
    "        (default 0: commit the store after every request, before its\n"
    "        reply)\n"
    "  --no-shrink\n"
    "        report a failure without shrinking its workload\n"
    "  --quiet\n"
    "        print nothing but a failure (no progress, no summary line when\n"
    "        every state passed)\n"
    "  -h, --help\n"
    "        print this manual and exit\n"
    "\n"
    "EXIT STATUS\n"
    "  0  every state passed\n"
    "  1  a failure was found\n"
    "  2  usage error, or the harness could not run\n"
    "\n"
    "EXAMPLES\n"
    "  baton torture --seed 1 --states 10000\n"
    "  baton torture --workload random --long --seed 7\n"
    "  baton torture --workload ace3 --shard 1/4 --quiet\n"
    "\n"
    "SEE ALSO\n"
    "  baton fsck --help, baton journal --help, docs/TESTING.md\n";

const char* kUsage =
    "usage: baton torture [--seed N] [--states N] [--model M] [--workload W]\n"
    "                     [--long] [--shard K/N] [--dir DIR] [--recovery-every N]\n"
    "                     [--store-commit-records N] [--no-shrink] [--quiet]\n";

int UsageError(const std::string& why) { return tools::UsageError("torture", why, kUsage, 2); }

}  // namespace

int CmdTorture(int argc, char** argv, int first) {
  Args a({"--long", "--no-shrink", "--quiet", "--help", "-h"},
         {"--seed", "--states", "--model", "--workload", "--shard", "--dir", "--recovery-every",
          "--store-commit-records"});
  if (!a.Parse(argc, argv, first)) return UsageError(a.error());
  if (a.Has("--help") || a.Has("-h")) return fputs(kHelp, stdout), 0;
  if (!a.positional().empty())
    return UsageError("unexpected argument '" + a.positional()[0] + "'");
  torture::RunOptions o;
  if (auto v = a.Get("--seed"); v && !ParseU64(*v, &o.seed))
    return fprintf(stderr, "baton torture: bad --seed %s\n", v->c_str()), 2;
  if (auto v = a.Get("--states"); v && !ParseU64(*v, &o.max_states))
    return fprintf(stderr, "baton torture: bad --states %s\n", v->c_str()), 2;
  if (auto v = a.Get("--model"); v && *v != "all") {
    torture::CrashModel m;
    if (!torture::ParseCrashModel(*v, &m))
      return fprintf(stderr, "baton torture: unknown model '%s' (prefix, realistic, adversarial or all)\n",
                     v->c_str()), 2;
    o.models = {m};
  }
  if (auto v = a.Get("--workload")) o.workload = *v;
  if (o.workload != "ace1" && o.workload != "ace2" && o.workload != "ace3" && o.workload != "random")
    return fprintf(stderr, "baton torture: unknown workload '%s' (ace1, ace2, ace3 or random)\n", o.workload.c_str()), 2;
  if (auto v = a.Get("--shard")) {
    uint64_t k = 0, n = 0;
    size_t slash = v->find('/');
    if (slash == std::string::npos || !ParseU64(v->substr(0, slash), &k) || !ParseU64(v->substr(slash + 1), &n) ||
        n == 0 || k >= n)
      return fprintf(stderr, "baton torture: bad --shard %s (K/N with 0 <= K < N)\n", v->c_str()), 2;
    o.shard = static_cast<uint32_t>(k);
    o.shards = static_cast<uint32_t>(n);
  }
  if (auto v = a.Get("--dir")) o.work_dir = *v;
  if (auto v = a.Get("--store-commit-records")) {
    if (!ParseU64(*v, &o.store_commit_records) || o.store_commit_records > 1000000)
      return fprintf(stderr, "baton torture: bad --store-commit-records %s (0..1000000)\n", v->c_str()), 2;
  }
  if (auto v = a.Get("--recovery-every")) {
    uint64_t n = 0;
    if (!ParseU64(*v, &n) || n == 0 || n > 1000000)
      return fprintf(stderr, "baton torture: bad --recovery-every %s\n", v->c_str()), 2;
    o.recovery_crash_every = static_cast<int>(n);
  }
  o.long_run = a.Has("--long");
  o.shrink = !a.Has("--no-shrink");
  o.quiet = a.Has("--quiet");
  return torture::RunTorture(o, std::cout);
}

}  // namespace baton::tools
