// baton torture: the crash-consistency torture harness (torture/), for users.
#include <cstdio>
#include <iostream>
#include <sstream>

#include "tools/args.h"
#include "tools/commands.h"
#include "torture/runner.h"

namespace baton::tools {

namespace {

const char* kHelp =
    "usage: baton torture [--seed N] [--states N] [--model prefix|realistic|adversarial|all]\n"
    "                     [--workload ace1|ace2|ace3|random] [--long] [--shard K/N] [--dir DIR]\n"
    "                     [--recovery-every N] [--no-shrink] [--quiet]\n"
    "\n"
    "Runs BatonFS's write path (journal, group commit, apply into LMDB) in this\n"
    "process on a scratch volume, records every write, sync, directory sync,\n"
    "creation, rename and removal, and at every I/O boundary builds the states a\n"
    "power loss could leave (under the chosen fault models), recovers each as a\n"
    "taking-over MDS would, and checks that recovery succeeds, fsck finds\n"
    "nothing, every acknowledged operation is there byte-exact, the store is a\n"
    "prefix of the journal order, the request in flight re-sent is applied once,\n"
    "and crashes inside recovery change nothing. docs/TESTING.md has the details.\n"
    "\n"
    "  --seed N        orders the workloads and drives every random choice (default 1)\n"
    "  --states N      stop after N crash states (default: the whole workload set)\n"
    "  --model M       one fault model, or all three (default all)\n"
    "  --workload W    ace1, ace2 (default), ace3: every sequence of 1/2/3 operations\n"
    "                  from the catalogue, each followed by fsync, fsyncdir or nothing;\n"
    "                  random: seeded random workloads (fsstress-like)\n"
    "  --long          also fdatasync, more samples per crash point, crashes inside\n"
    "                  recovery three levels deep, 4x longer random workloads\n"
    "  --shard K/N     run only workloads K, K+N, K+2N, ... (split a run over cores)\n"
    "  --dir DIR       scratch directory (default /dev/shm, else /tmp)\n"
    "  --recovery-every N  crash inside the recovery of one state in N (default 8;\n"
    "                  2 with --long); those crashes are most of the states checked\n"
    "  --no-shrink     report a failure without shrinking its workload\n"
    "\n"
    "It prints progress every 5 s and crash states checked per second. For a\n"
    "failure it prints what failed, the workload, the fault model, the crash point\n"
    "with the I/O events before it, a shrunk workload and the command to repeat it.\n"
    "\n"
    "exit status: 0 every state passed, 1 a failure was found, 2 bad usage or the\n"
    "harness could not run\n";

}  // namespace

int CmdTorture(int argc, char** argv, int first) {
  Args a({"--long", "--no-shrink", "--quiet", "--help", "-h"},
         {"--seed", "--states", "--model", "--workload", "--shard", "--dir", "--recovery-every"});
  if (!a.Parse(argc, argv, first)) return fprintf(stderr, "baton torture: %s\n\n%s", a.error().c_str(), kHelp), 2;
  if (a.Has("--help") || a.Has("-h")) return fputs(kHelp, stdout), 0;
  if (!a.positional().empty())
    return fprintf(stderr, "baton torture: unexpected argument '%s'\n\n%s", a.positional()[0].c_str(), kHelp), 2;
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
