#include "bench/fuse/workloads.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "bench/fuse/stats.h"

namespace baton::fusebench {
namespace {

constexpr size_t kSmallWriteBytes = 4096;

double NowSeconds() {
  using Clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

Status Errno(const char* call, const std::string& path) {
  const int err = errno;
  return Status::IOError(std::string(call) + " " + path + ": " + std::strerror(err), err);
}

std::vector<std::string> Names(const std::string& dir, const char* prefix, int count) {
  std::vector<std::string> paths;
  paths.reserve(count);
  char name[32];
  for (int i = 0; i < count; ++i) {
    std::snprintf(name, sizeof name, "/%s%06d", prefix, i);
    paths.push_back(dir + name);
  }
  return paths;
}

Status CreateEmpty(const std::string& path) {
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("open(O_CREAT)", path);
  if (::close(fd) != 0) return Errno("close", path);
  return Status::Ok();
}

Status StatOne(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Errno("stat", path);
  if (!S_ISREG(st.st_mode) || st.st_size != 0) return Status::Corruption("stat " + path + ": not an empty file");
  return Status::Ok();
}

Status UnlinkOne(const std::string& path) { return ::unlink(path.c_str()) == 0 ? Status::Ok() : Errno("unlink", path); }
Status MkdirOne(const std::string& path) { return ::mkdir(path.c_str(), 0755) == 0 ? Status::Ok() : Errno("mkdir", path); }
Status RmdirOne(const std::string& path) { return ::rmdir(path.c_str()) == 0 ? Status::Ok() : Errno("rmdir", path); }

Status WriteSynced(const std::string& path, const char* data) {
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("open(O_CREAT)", path);
  Status st = Status::Ok();
  if (::write(fd, data, kSmallWriteBytes) != static_cast<ssize_t>(kSmallWriteBytes)) {
    st = Errno("write 4 KiB", path);
  } else if (::fsync(fd) != 0) {
    st = Errno("fsync", path);
  }
  if (::close(fd) != 0 && st.ok()) st = Errno("close", path);
  return st;
}

// Applies op to every path; the result is operations per second.
template <typename Op>
StatusOr<double> Timed(const std::vector<std::string>& paths, Op op) {
  const double start_s = NowSeconds();
  for (const std::string& p : paths) BATON_RETURN_IF_ERROR(op(p));
  const double elapsed_s = NowSeconds() - start_s;
  return static_cast<double>(paths.size()) / std::max(elapsed_s, 1e-9);
}

Status MetadataPhases(const std::string& dir, const WorkloadCounts& counts, std::vector<Sample>* out) {
  const std::vector<std::string> files = Names(dir, "f", counts.files);
  const std::vector<std::string> dirs = Names(dir, "d", counts.dirs);
  struct Phase {
    const char* metric;
    const std::vector<std::string>* paths;
    Status (*op)(const std::string&);
  };
  const Phase phases[] = {
      {"create_ops_s", &files, CreateEmpty}, {"stat_ops_s", &files, StatOne}, {"unlink_ops_s", &files, UnlinkOne},
      {"mkdir_ops_s", &dirs, MkdirOne},      {"rmdir_ops_s", &dirs, RmdirOne},
  };
  for (const Phase& phase : phases) {
    if (phase.op == StatOne) std::this_thread::sleep_for(std::chrono::milliseconds(counts.stat_delay_ms));
    BATON_ASSIGN_OR_RETURN(const double ops_s, Timed(*phase.paths, phase.op));
    out->push_back({phase.metric, ops_s});
  }
  return Status::Ok();
}

Status FsyncPhase(const std::string& dir, int count, std::vector<Sample>* out) {
  const std::vector<std::string> files = Names(dir, "s", count);
  const std::vector<char> data(kSmallWriteBytes, 'b');
  std::vector<double> latencies_us;
  latencies_us.reserve(count);
  const double start_s = NowSeconds();
  for (const std::string& p : files) {
    const double t0_s = NowSeconds();
    BATON_RETURN_IF_ERROR(WriteSynced(p, data.data()));
    latencies_us.push_back((NowSeconds() - t0_s) * 1e6);
  }
  const double elapsed_s = NowSeconds() - start_s;
  out->push_back({"fsync_files_s", count / std::max(elapsed_s, 1e-9)});
  out->push_back({"fsync_p50_us", Percentile(latencies_us, 50)});
  out->push_back({"fsync_p99_us", Percentile(latencies_us, 99)});
  for (const std::string& p : files) BATON_RETURN_IF_ERROR(UnlinkOne(p));
  return Status::Ok();
}

}  // namespace

StatusOr<std::vector<Sample>> RunRound(const std::string& dir, const WorkloadCounts& counts) {
  std::string tmpl = dir + "/fbench-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return Errno("mkdtemp", tmpl);
  std::vector<Sample> samples;
  Status st = MetadataPhases(tmpl, counts, &samples);
  if (st.ok()) st = FsyncPhase(tmpl, counts.fsync_files, &samples);
  if (!st.ok()) return st;  // the directory is left for the caller's rm -rf of its temp tree
  if (::rmdir(tmpl.c_str()) != 0) return Errno("rmdir", tmpl);
  return samples;
}

}  // namespace baton::fusebench
