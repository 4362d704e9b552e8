#include "bench/meta_phase.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bench/bench_util.h"

namespace baton::bench {

namespace {

constexpr uint32_t kFileMode = S_IFREG | 0644;
constexpr size_t kWriteBytes = 4096;

std::string FileName(uint64_t i) { return "f" + std::to_string(i); }

fs::Request Req(fs::Op op, fs::Ino parent, std::string name, uint32_t mode = 0) {
  fs::Request r;
  r.op = op;
  r.parent = parent;
  r.name = std::move(name);
  r.mode = mode;
  return r;
}

uint64_t ShareOf(uint64_t total, int threads, int t) {
  uint64_t n = total / threads;
  return n + (static_cast<uint64_t>(t) < total % threads ? 1 : 0);
}

// Sends req; "" on success, else what went wrong.
std::string CallOk(client::Client& c, const fs::Request& req, fs::Reply* rep) {
  StatusOr<fs::Reply> r = c.Call(req);
  if (!r.ok()) return std::string(fs::OpName(req.op)) + ": " + r.status().ToString();
  if (r->err != 0) return std::string(fs::OpName(req.op)) + " " + req.name + ": " + std::strerror(r->err);
  *rep = std::move(r).value();
  return "";
}

std::string BatonCreateFsync(client::Client& c, fs::Ino dir, const std::string& name, const std::string& data) {
  fs::Request mk = Req(fs::Op::kMknod, dir, name, kFileMode);
  fs::Reply rep;
  std::string err = CallOk(c, mk, &rep);
  if (!err.empty()) return err;
  fs::Request wr = Req(fs::Op::kWrite, 0, "");
  wr.ino = rep.attr.ino;
  wr.data = data;
  err = CallOk(c, wr, &rep);
  if (!err.empty()) return err;
  fs::Request sync = Req(fs::Op::kFsync, 0, "");
  sync.ino = wr.ino;
  return CallOk(c, sync, &rep);
}

std::string BatonOne(client::Client& c, fs::Ino dir, MetaOp op, uint64_t i, const std::string& data) {
  fs::Request req;
  req.parent = dir;
  req.name = FileName(i);
  fs::Reply rep;
  switch (op) {
    case MetaOp::kCreate: req.op = fs::Op::kMknod; req.mode = kFileMode; break;
    case MetaOp::kStat: req.op = fs::Op::kLookup; break;
    case MetaOp::kUnlink: req.op = fs::Op::kUnlink; break;
    case MetaOp::kCreateFsync: return BatonCreateFsync(c, dir, req.name, data);
  }
  return CallOk(c, req, &rep);
}

std::string Errno(const char* what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

std::string LocalCreateFsync(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
  if (fd < 0) return Errno("open", path);
  std::string err;
  if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) err = Errno("write", path);
  if (err.empty() && ::fsync(fd) != 0) err = Errno("fsync", path);
  ::close(fd);
  return err;
}

std::string LocalOne(const std::string& dir, MetaOp op, uint64_t i, const std::string& data) {
  std::string path = dir + "/" + FileName(i);
  struct stat st;
  switch (op) {
    case MetaOp::kCreate: {
      int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
      if (fd < 0) return Errno("open", path);
      ::close(fd);
      return "";
    }
    case MetaOp::kStat: return ::stat(path.c_str(), &st) == 0 ? "" : Errno("stat", path);
    case MetaOp::kUnlink: return ::unlink(path.c_str()) == 0 ? "" : Errno("unlink", path);
    case MetaOp::kCreateFsync: return LocalCreateFsync(path, data);
  }
  return "unknown op";
}

// Runs one(t, i) for i in [0, share of t) on each thread; stops a thread at
// its first error.
template <typename OneFn>
PhaseResult RunThreads(int threads, uint64_t total_ops, OneFn one) {
  std::vector<uint64_t> done(threads, 0);
  std::vector<std::string> errors(threads);
  PhaseResult res;
  res.elapsed_ns = RunTimed(threads, [&](int t) {
    uint64_t n = ShareOf(total_ops, threads, t);
    for (uint64_t i = 0; i < n && errors[t].empty(); i++) {
      errors[t] = one(t, i);
      if (errors[t].empty()) done[t]++;
    }
  });
  for (int t = 0; t < threads; t++) {
    res.ops += done[t];
    if (res.error.empty() && !errors[t].empty()) res.error = "client " + std::to_string(t) + ": " + errors[t];
  }
  return res;
}

}  // namespace

const char* MetaOpName(MetaOp op) {
  switch (op) {
    case MetaOp::kCreate: return "create";
    case MetaOp::kStat: return "stat";
    case MetaOp::kUnlink: return "unlink";
    case MetaOp::kCreateFsync: return "create+write4K+fsync";
  }
  return "?";
}

bool ConnectClients(const std::string& addr, int n, const std::string& prefix, BatonClients* out,
                    std::string* error) {
  client::ClientOptions co;
  co.client_name = "baton-bench";
  co.call_timeout_ms = 120000;  // a hung MDS fails the phase instead of hanging the bench
  for (int i = 0; i < n; i++) {
    StatusOr<std::unique_ptr<client::Client>> c = client::Client::Connect({addr}, co);
    if (!c.ok()) return *error = "connect " + addr + ": " + c.status().ToString(), false;
    fs::Request mk = Req(fs::Op::kMkdir, fs::kRootIno, prefix + "-" + std::to_string(i), S_IFDIR | 0755);
    fs::Reply rep;
    std::string err = CallOk(**c, mk, &rep);
    if (!err.empty()) return *error = err, false;
    out->dirs.push_back(rep.attr.ino);
    out->sessions.push_back(std::move(c).value());
  }
  return true;
}

PhaseResult RunBatonPhase(BatonClients& clients, MetaOp op, uint64_t total_ops) {
  const std::string data(kWriteBytes, 'b');
  return RunThreads(static_cast<int>(clients.sessions.size()), total_ops, [&](int t, uint64_t i) {
    return BatonOne(*clients.sessions[t], clients.dirs[t], op, i, data);
  });
}

bool MakeLocalDirs(const std::string& parent, int n, const std::string& prefix, std::vector<std::string>* out,
                   std::string* error) {
  for (int i = 0; i < n; i++) {
    std::string d = parent + "/" + prefix + "-" + std::to_string(i);
    if (::mkdir(d.c_str(), 0755) != 0) return *error = Errno("mkdir", d), false;
    out->push_back(d);
  }
  return true;
}

PhaseResult RunLocalPhase(const std::vector<std::string>& dirs, MetaOp op, uint64_t total_ops) {
  const std::string data(kWriteBytes, 'l');
  return RunThreads(static_cast<int>(dirs.size()), total_ops,
                    [&](int t, uint64_t i) { return LocalOne(dirs[t], op, i, data); });
}

double DsyncWriteLatencyNs(const std::string& dir, int count) {
  std::string path = dir + "/dsync-probe";
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_DSYNC, 0644);
  if (fd < 0) return 0;
  const std::string block(kWriteBytes, 'd');
  uint64_t start = NowNanos();
  bool ok = true;
  for (int i = 0; i < count && ok; i++)
    ok = ::pwrite(fd, block.data(), block.size(), static_cast<off_t>(i) * kWriteBytes) ==
         static_cast<ssize_t>(block.size());
  uint64_t elapsed = NowNanos() - start;
  ::close(fd);
  ::unlink(path.c_str());
  return ok ? static_cast<double>(elapsed) / count : 0;
}

}  // namespace baton::bench
