// baton status ADDR:PORT[,ADDR:PORT...]: what each MDS says about itself.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <ctime>
#include <thread>
#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "client/client.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace baton::tools {

namespace {

// The manual (`baton status --help`), man-page style like every
// subcommand's.
const char* kHelp =
    "NAME\n"
    "  baton status - name, role, epoch, LSNs and lag of each MDS\n"
    "\n"
    "SYNOPSIS\n"
    "  baton status ADDR:PORT[,ADDR:PORT...] [--json] [--timeout-ms N]\n"
    "  baton status ADDR:PORT[,ADDR:PORT...] --watch [--interval-ms N]\n"
    "               [--count N] [--json] [--timeout-ms N]\n"
    "\n"
    "DESCRIPTION\n"
    "  Asks each MDS given, and every MDS in the volume's MDS map they return,\n"
    "  for its name, role, epoch, applied and durable LSN, lag (a standby:\n"
    "  records behind the active) and number of connected sessions. One\n"
    "  address of any MDS of the volume is enough. An MDS that does not answer\n"
    "  is listed as unreachable.\n"
    "\n"
    "OPTIONS\n"
    "  --json\n"
    "        print one JSON array of the MDSs (with --watch: one array a line)\n"
    "  --timeout-ms N\n"
    "        how long to wait for each MDS (default 2000)\n"
    "  --watch\n"
    "        ask again every --interval-ms until interrupted, or --count\n"
    "        times; on a terminal the screen is redrawn, otherwise each round\n"
    "        is printed after a time stamp. A change of active MDS or epoch\n"
    "        between rounds is called out.\n"
    "  --interval-ms N\n"
    "        with --watch: milliseconds between rounds (default 1000)\n"
    "  --count N\n"
    "        with --watch: stop after N rounds (default: when interrupted)\n"
    "  -h, --help\n"
    "        print this manual and exit\n"
    "\n"
    "EXIT STATUS\n"
    "  0  an active MDS answered (with --watch: in the last round)\n"
    "  1  none did\n"
    "  2  usage error\n"
    "\n"
    "EXAMPLES\n"
    "  baton status 127.0.0.1:7070\n"
    "  baton status --watch 127.0.0.1:7070,127.0.0.1:7071\n"
    "  baton status --json --timeout-ms 500 10.0.0.1:7070\n"
    "\n"
    "SEE ALSO\n"
    "  baton mds --help, baton mount --help\n";

const char* kUsage =
    "usage: baton status ADDR:PORT[,ADDR:PORT...] [--json] [--timeout-ms N]\n"
    "                    [--watch [--interval-ms N] [--count N]]\n";

int UsageError(const std::string& why) { return tools::UsageError("status", why, kUsage, 2); }

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

std::vector<std::string> SplitAddresses(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string a; std::getline(in, a, ',');)
    if (!a.empty()) out.push_back(a);
  return out;
}


// One round: asks every MDS, prints the table (or JSON). Returns whether an
// active answered; *active_addr and *epoch tell which and at what epoch.
bool Round(std::vector<std::string> addrs, uint64_t timeout_ms, bool json, std::string* active_addr,
           uint64_t* epoch) {
  bool active = false;
  if (json) printf("[");
  else
    printf("%-22s %-18s %-12s %8s %12s %12s %8s %9s\n", "address", "name", "role", "epoch", "applied_lsn",
           "durable_lsn", "lag", "sessions");
  // addrs grows with the MDS map each answer brings.
  for (size_t i = 0; i < addrs.size(); i++) {
    auto st = client::QueryStatus(addrs[i], static_cast<int>(timeout_ms));
    if (st.ok()) {
      for (const std::string& m : st->mds_addresses)
        if (std::find(addrs.begin(), addrs.end(), m) == addrs.end() && addrs.size() < 256) addrs.push_back(m);
    }
    if (st.ok() && st->role == proto::Role::kActive) {
      active = true;
      *active_addr = addrs[i];
      *epoch = st->epoch;
    }
    if (json) {
      printf("%s{\"address\":%s", i ? "," : "", JsonString(addrs[i]).c_str());
      if (st.ok())
        printf(",\"name\":%s,\"role\":\"%s\",\"epoch\":%" PRIu64 ",\"applied_lsn\":%" PRIu64
               ",\"durable_lsn\":%" PRIu64 ",\"lag\":%" PRIu64 ",\"sessions\":%" PRIu64 ",\"active\":%s}",
               JsonString(st->name).c_str(), proto::RoleName(st->role), st->epoch, st->applied_lsn, st->durable_lsn,
               st->lag, st->sessions, JsonString(st->active_address).c_str());
      else
        printf(",\"role\":\"unreachable\",\"error\":%s}", JsonString(st.status().ToString()).c_str());
    } else if (st.ok()) {
      printf("%-22s %-18s %-12s %8" PRIu64 " %12" PRIu64 " %12" PRIu64 " %8" PRIu64 " %9" PRIu64 "\n",
             addrs[i].c_str(), st->name.c_str(), proto::RoleName(st->role), st->epoch, st->applied_lsn,
             st->durable_lsn, st->lag, st->sessions);
    } else {
      printf("%-22s %-18s %-12s %s\n", addrs[i].c_str(), "", "unreachable", st.status().ToString().c_str());
    }
  }
  if (json) printf("]\n");
  return active;
}

}  // namespace

int CmdStatus(int argc, char** argv, int first) {
  Args a({"--json", "--watch", "--help", "-h"}, {"--timeout-ms", "--interval-ms", "--count"});
  if (!a.Parse(argc, argv, first)) return UsageError(a.error());
  if (a.Has("--help") || a.Has("-h")) return fputs(kHelp, stdout), 0;
  std::vector<std::string> addrs;
  for (const auto& p : a.positional())
    for (auto& s : SplitAddresses(p)) addrs.push_back(s);
  if (addrs.empty()) return UsageError("give at least one ADDR:PORT");
  uint64_t timeout_ms = 2000, interval_ms = 1000, count = 0;
  if (auto v = a.Get("--timeout-ms"); v && !ParseU64(*v, &timeout_ms))
    return fprintf(stderr, "baton status: bad --timeout-ms %s\n", v->c_str()), 2;
  if (auto v = a.Get("--interval-ms"); v && (!ParseU64(*v, &interval_ms) || interval_ms == 0))
    return fprintf(stderr, "baton status: bad --interval-ms %s\n", v->c_str()), 2;
  if (auto v = a.Get("--count"); v && (!ParseU64(*v, &count) || count == 0))
    return fprintf(stderr, "baton status: bad --count %s\n", v->c_str()), 2;
  if (!a.Has("--watch") && (a.Get("--interval-ms") || a.Get("--count")))
    return fprintf(stderr, "baton status: --interval-ms and --count go with --watch\n"), 2;
  const bool json = a.Has("--json");
  std::string active_addr;
  uint64_t epoch = 0;
  if (!a.Has("--watch")) return Round(addrs, timeout_ms, json, &active_addr, &epoch) ? 0 : 1;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const bool tty = !json && isatty(STDOUT_FILENO);
  bool active = false;
  std::string last_addr;
  uint64_t last_epoch = 0;
  for (uint64_t round = 0; !g_stop && (count == 0 || round < count); round++) {
    if (round > 0) {
      for (uint64_t slept = 0; slept < interval_ms && !g_stop; slept += 50)
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min<uint64_t>(50, interval_ms - slept)));
      if (g_stop) break;
    }
    const std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", std::localtime(&now));
    if (tty) printf("\033[H\033[2J");
    if (!json) printf("%s  (every %" PRIu64 " ms; ^C ends)\n", stamp, interval_ms);
    active_addr.clear();
    active = Round(addrs, timeout_ms, json, &active_addr, &epoch);
    if (!json && round > 0 && (active_addr != last_addr || epoch != last_epoch)) {
      printf("%s  change: active %s epoch %" PRIu64 " -> %s epoch %" PRIu64 "\n", stamp,
             last_addr.empty() ? "(none)" : last_addr.c_str(), last_epoch,
             active_addr.empty() ? "(none)" : active_addr.c_str(), epoch);
    }
    if (!json && !tty) printf("\n");
    fflush(stdout);
    last_addr = active_addr;
    last_epoch = active ? epoch : last_epoch;
  }
  return active ? 0 : 1;
}

}  // namespace baton::tools
