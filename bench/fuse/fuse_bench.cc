// baton_fuse_bench: the workload driver and report printer of the FUSE bench
// (bench/fuse/run.sh drives it; docs/PERFORMANCE.md "FUSE mount vs
// passthrough_ll").
//
//   baton_fuse_bench run DIR --target NAME [--rounds N] [--files N] [--dirs N] [--fsync-files N]
//                        [--stat-delay-ms N] [--quick]
//       runs the workloads of workloads.h in DIR N times and prints one
//       sample line per metric and round: "NAME METRIC VALUE".
//   baton_fuse_bench report SAMPLES [--targets a,b,c] [--json FILE] [--command TEXT] [--machine TEXT]
//       prints the table of medians and ratios (report.h).
//   baton_fuse_bench free-port
//       prints a TCP port on 127.0.0.1 that was free a moment ago (bound, released).
//
// Exit status: 0 ok; 1 a workload failed (run) or a sample is missing
// (report); 2 bad usage.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "bench/fuse/report.h"
#include "bench/fuse/workloads.h"

namespace baton::fusebench {
namespace {

constexpr const char* kUsage =
    "usage: baton_fuse_bench run DIR --target NAME [--rounds N] [--files N] [--dirs N] [--fsync-files N]\n"
    "                               [--stat-delay-ms N] [--quick]\n"
    "       baton_fuse_bench report SAMPLES [--targets local,passthrough,baton] [--json FILE]\n"
    "                               [--command TEXT] [--machine TEXT]\n"
    "       baton_fuse_bench free-port\n";

int Usage(const char* why) {
  std::fprintf(stderr, "baton_fuse_bench: %s\n%s", why, kUsage);
  return 2;
}

bool PositiveInt(const char* text, int* out) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v <= 0 || v > 10'000'000) return false;
  *out = static_cast<int>(v);
  return true;
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    const size_t end = comma == std::string::npos ? s.size() : comma;
    if (end > start) parts.push_back(s.substr(start, end - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return parts;
}

int Run(int argc, char** argv) {
  if (argc < 1) return Usage("run: missing DIR");
  const std::string dir = argv[0];
  std::string target;
  int rounds = 3;
  WorkloadCounts counts;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--quick") {
      counts.files = 500;
      counts.dirs = 200;
      counts.fsync_files = 100;
      rounds = 1;
    } else if (a == "--target" && has_value) {
      target = argv[++i];
    } else if (a == "--rounds" && has_value) {
      if (!PositiveInt(argv[++i], &rounds)) return Usage("bad --rounds");
    } else if (a == "--files" && has_value) {
      if (!PositiveInt(argv[++i], &counts.files)) return Usage("bad --files");
    } else if (a == "--dirs" && has_value) {
      if (!PositiveInt(argv[++i], &counts.dirs)) return Usage("bad --dirs");
    } else if (a == "--stat-delay-ms" && has_value) {
      if (!PositiveInt(argv[++i], &counts.stat_delay_ms)) return Usage("bad --stat-delay-ms");
    } else if (a == "--fsync-files" && has_value) {
      if (!PositiveInt(argv[++i], &counts.fsync_files)) return Usage("bad --fsync-files");
    } else {
      return Usage(("run: unknown or incomplete option " + a).c_str());
    }
  }
  if (target.empty() || target.find_first_of(" \t#") != std::string::npos) return Usage("run: --target NAME needed");
  for (int r = 0; r < rounds; ++r) {
    StatusOr<std::vector<Sample>> samples = RunRound(dir, counts);
    if (!samples.ok()) {
      std::fprintf(stderr, "baton_fuse_bench: %s round %d: %s\n", target.c_str(), r + 1,
                   samples.status().ToString().c_str());
      return 1;
    }
    for (const Sample& s : *samples) std::printf("%s %s %.3f\n", target.c_str(), s.metric.c_str(), s.value);
    std::fflush(stdout);
  }
  return 0;
}

int ReportCommand(int argc, char** argv) {
  if (argc < 1) return Usage("report: missing SAMPLES");
  ReportOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return Usage(("report: " + a + " needs a value").c_str());
    const std::string v = argv[++i];
    if (a == "--targets") {
      options.targets = SplitComma(v);
    } else if (a == "--json") {
      options.json_path = v;
    } else if (a == "--command") {
      options.command = v;
    } else if (a == "--machine") {
      options.machine = v;
    } else {
      return Usage(("report: unknown option " + a).c_str());
    }
  }
  std::ifstream in(argv[0]);
  if (!in) return Usage((std::string("report: cannot read ") + argv[0]).c_str());
  Samples samples;
  std::string error;
  if (!ParseSamples(in, &samples, &error)) {
    std::fprintf(stderr, "baton_fuse_bench: %s: %s\n", argv[0], error.c_str());
    return 1;
  }
  return Report(samples, options) == 0 ? 0 : 1;
}

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!ok) return 1;
  std::printf("%d\n", ntohs(addr.sin_port));
  return 0;
}

}  // namespace
}  // namespace baton::fusebench

int main(int argc, char** argv) {
  if (argc < 2) return baton::fusebench::Usage("missing command");
  const std::string cmd = argv[1];
  if (cmd == "run") return baton::fusebench::Run(argc - 2, argv + 2);
  if (cmd == "report") return baton::fusebench::ReportCommand(argc - 2, argv + 2);
  if (cmd == "free-port") return baton::fusebench::FreePort();
  if (cmd == "--help" || cmd == "-h") {
    std::fputs(baton::fusebench::kUsage, stdout);
    return 0;
  }
  return baton::fusebench::Usage(("unknown command " + cmd).c_str());
}
