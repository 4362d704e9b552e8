// baton status ADDR:PORT[,ADDR:PORT...]: what each MDS says about itself.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "client/client.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace baton::tools {

namespace {

const char* kHelp =
    "usage: baton status ADDR:PORT[,ADDR:PORT...] [--json] [--timeout-ms N]\n"
    "\n"
    "Asks the MDSs given, and every MDS they name in the volume's MDS map, for\n"
    "their name, role, epoch, applied and durable LSN, lag (a standby: records\n"
    "behind the active) and number of connected sessions. One address of any\n"
    "MDS of the volume is enough.\n"
    "\n"
    "exit status: 0 an active MDS answered, 1 none did, 2 bad usage\n";

std::vector<std::string> SplitAddresses(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string a; std::getline(in, a, ',');)
    if (!a.empty()) out.push_back(a);
  return out;
}

std::string JsonString(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) o += c;
  }
  return o + "\"";
}

}  // namespace

int CmdStatus(int argc, char** argv, int first) {
  Args a({"--json", "--help", "-h"}, {"--timeout-ms"});
  if (!a.Parse(argc, argv, first)) return fprintf(stderr, "baton status: %s\n\n%s", a.error().c_str(), kHelp), 2;
  if (a.Has("--help") || a.Has("-h")) return fputs(kHelp, stdout), 0;
  std::vector<std::string> addrs;
  for (const auto& p : a.positional())
    for (auto& s : SplitAddresses(p)) addrs.push_back(s);
  if (addrs.empty()) return fprintf(stderr, "baton status: give at least one ADDR:PORT\n\n%s", kHelp), 2;
  uint64_t timeout_ms = 2000;
  if (auto v = a.Get("--timeout-ms"); v && !ParseU64(*v, &timeout_ms))
    return fprintf(stderr, "baton status: bad --timeout-ms %s\n", v->c_str()), 2;
  const bool json = a.Has("--json");
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
    if (st.ok() && st->role == proto::Role::kActive) active = true;
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
  return active ? 0 : 1;
}

}  // namespace baton::tools
