#include "tests/mds/mds_test_util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "base/env.h"
#include "base/log.h"
#include "client/client.h"
#include "mds/mds.h"
#include "proto/net.h"
#include "volume/volume.h"

namespace baton::testing {

namespace {

constexpr const char* kChildEnv = "BATON_TEST_CHILD_MDS";  // "VOLUME|ADDR|GRACE_MS|STANDBY|MIN_FREE_BYTES|NAME|LEASE_MS"
constexpr const char* kChildMetricsEnv = "BATON_TEST_CHILD_MDS_METRICS";  // MdsOptions::metrics_addr, when set

// Self-exec mode: run the MDS instead of the tests.
struct ChildMdsRunner {
  ChildMdsRunner() {
    const char* spec = std::getenv(kChildEnv);
    if (spec == nullptr) return;
    std::string s(spec);
    size_t a = s.find('|'), b = s.find('|', a + 1), c = s.find('|', b + 1), d = s.find('|', c + 1),
           e = s.find('|', d + 1), g = s.find('|', e + 1);
    mds::MdsOptions o;
    o.volume_path = s.substr(0, a);
    o.listen_addr = s.substr(a + 1, b - a - 1);
    o.orphan_grace_ms = static_cast<uint32_t>(std::stoul(s.substr(b + 1, c - b - 1)));
    o.standby = s.substr(c + 1, d - c - 1) == "1";
    uint64_t min_free = std::stoull(s.substr(d + 1, e - d - 1));
    o.name = s.substr(e + 1, g - e - 1);
    uint64_t lease = std::stoull(s.substr(g + 1));
    if (lease != 0) o.lease_ms = static_cast<uint32_t>(lease);
    if (min_free != 0) o.min_free_bytes = min_free;
    o.checkpoint_interval_ms = 500;  // exercise checkpoints and trims under kills
    if (const char* m = std::getenv(kChildMetricsEnv)) o.metrics_addr = m;
    std::_Exit(mds::RunMds(o));
  }
};
ChildMdsRunner g_child_runner;

bool UseRealBinary() {
  const char* bin = std::getenv("BATON_BIN");
  return bin != nullptr && std::getenv("BATON_MDS_SELF_EXEC") == nullptr && ::access(bin, X_OK) == 0;
}

}  // namespace

TempDir::TempDir() {
  char tmpl[] = "/tmp/baton-test-XXXXXX";
  char* p = ::mkdtemp(tmpl);
  if (p == nullptr) std::abort();
  path_ = p;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string MakeVolume(const TempDir& dir) {
  std::string path = dir.path() + "/vol";
  volume::MkfsOptions o;
  o.journal_segment_bytes = 1 << 20;  // small segments: trims happen in tests
  o.meta_map_bytes = 1ull << 30;      // small map: runs under sanitizers too
  auto sb = volume::Volume::Create(Env::Default(), path, o);
  if (!sb.ok()) {
    fprintf(stderr, "mkfs %s: %s\n", path.c_str(), sb.status().ToString().c_str());
    std::abort();
  }
  return path;
}

std::string FreeLocalAddress() {
  std::string addr;
  StatusOr<int> fd = proto::ListenTcp("127.0.0.1:0", &addr);
  if (!fd.ok()) std::abort();
  proto::CloseFd(*fd);
  return addr;
}

uint64_t EnvU64(const char* name, uint64_t dflt) {
  const char* s = std::getenv(name);
  return s ? std::strtoull(s, nullptr, 0) : dflt;
}

CommandResult RunCommand(const std::string& command_line) {
  CommandResult r;
  FILE* p = popen(command_line.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

uint64_t SeedFromEnv() { return EnvU64("BATON_SEED", std::random_device{}()); }

MdsProcess::MdsProcess(std::string volume, std::string address, uint32_t orphan_grace_ms, bool standby)
    : volume_(std::move(volume)), address_(std::move(address)), orphan_grace_ms_(orphan_grace_ms), standby_(standby) {
  log_path_ = volume_ + ".mds.log";
}

MdsProcess::~MdsProcess() { Kill9(); }

bool MdsProcess::Start(int timeout_ms) { return Spawn() && WaitReady(timeout_ms); }

bool MdsProcess::Spawn() {
  Kill9();
  std::string grace = std::to_string(orphan_grace_ms_);
  std::string checkpoint = std::to_string(checkpoint_interval_ms);
  std::string spec = volume_ + "|" + address_ + "|" + grace + "|" + (standby_ ? "1" : "0") + "|" +
                     std::to_string(min_free_bytes) + "|" + name + "|" + std::to_string(lease_ms);
  bool real = UseRealBinary();
  std::string bin = real ? std::getenv("BATON_BIN") : "/proc/self/exe";
  static bool said = false;
  if (!said) fprintf(stderr, "test MDS processes run %s\n", real ? bin.c_str() : "this test binary (self-exec)");
  said = true;
  pid_ = ::fork();
  if (pid_ < 0) return false;
  if (pid_ == 0) {
    int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) ::dup2(log, 2);
    if (real) {
      std::vector<std::string> args = {bin, "mds", volume_, "--listen", address_, "--orphan-grace-ms", grace,
                                       "--checkpoint-interval-ms", checkpoint};
      if (min_free_bytes != 0) args.insert(args.end(), {"--min-free-bytes", std::to_string(min_free_bytes)});
      if (!standby_) args.push_back("--exclusive");
      if (!name.empty()) args.insert(args.end(), {"--name", name});
      if (lease_ms != 0) args.insert(args.end(), {"--lease-ms", std::to_string(lease_ms)});
      if (!metrics_address.empty()) args.insert(args.end(), {"--metrics", metrics_address});
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(bin.c_str(), argv.data());
    } else {
      ::setenv(kChildEnv, spec.c_str(), 1);
      if (!metrics_address.empty()) ::setenv(kChildMetricsEnv, metrics_address.c_str(), 1);
      ::execl(bin.c_str(), bin.c_str(), static_cast<char*>(nullptr));
    }
    std::_Exit(127);
  }
  return true;
}

bool MdsProcess::WaitReady(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
    if (client::QueryStatus(address_, 500).ok()) return true;
    int st;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

bool MdsProcess::WaitRole(proto::Role role, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
    auto st = client::QueryStatus(address_, 500);
    if (st.ok() && st->role == role) return true;
    int ws;
    if (::waitpid(pid_, &ws, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

void MdsProcess::Kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int st;
  ::waitpid(pid_, &st, 0);
  pid_ = -1;
}

int MdsProcess::WaitExit(int timeout_ms) {
  if (pid_ <= 0) return -1;
  for (int waited = 0; waited <= timeout_ms; waited += 10) {
    int st;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

int MdsProcess::Terminate() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int rc = WaitExit(20000);
  Kill9();
  return rc;
}

StatusOr<std::unique_ptr<RawSession>> RawSession::Open(const std::string& addr, uint64_t session_id) {
  BATON_ASSIGN_OR_RETURN(int fd, proto::ConnectTcp(addr, 2000));
  std::unique_ptr<RawSession> s(new RawSession);
  s->fd_ = fd;
  proto::Hello h{proto::kProtocolVersion, session_id, "raw-test"};
  BATON_RETURN_IF_ERROR(proto::SendFrame(fd, {proto::FrameKind::kHello, 0, 0, 0, proto::EncodeHello(h)}));
  proto::Frame f;
  BATON_RETURN_IF_ERROR(proto::ReadFrame(fd, &s->dec_, &f));
  if (f.kind != proto::FrameKind::kHelloReply) return Status::Corruption("no HELLO_REPLY");
  proto::HelloReply r;
  BATON_RETURN_IF_ERROR(proto::DecodeHelloReply(f.payload, &r));
  s->session_id_ = r.session_id;
  return s;
}

RawSession::~RawSession() { proto::CloseFd(fd_); }

Status RawSession::Send(uint64_t request_id, uint64_t oldest_unreplied, const fs::Request& req) {
  proto::Frame out{proto::FrameKind::kRequest, static_cast<uint16_t>(req.op), 0, request_id,
                   proto::MakeRequestPayload(oldest_unreplied, fs::EncodeRequest(req))};
  return proto::SendFrame(fd_, out);
}

StatusOr<fs::Reply> RawSession::Receive(uint64_t* request_id) {
  proto::Frame in;
  BATON_RETURN_IF_ERROR(proto::ReadFrame(fd_, &dec_, &in));
  if (in.kind != proto::FrameKind::kReply) return Status::Corruption("not a reply");
  *request_id = in.request_id;
  fs::Reply rep;
  BATON_RETURN_IF_ERROR(fs::DecodeReply(in.payload, &rep));
  return rep;
}

StatusOr<fs::Reply> RawSession::Call(uint64_t request_id, uint64_t oldest_unreplied, const fs::Request& req) {
  proto::Frame out{proto::FrameKind::kRequest, static_cast<uint16_t>(req.op), 0, request_id,
                   proto::MakeRequestPayload(oldest_unreplied, fs::EncodeRequest(req))};
  BATON_RETURN_IF_ERROR(proto::SendFrame(fd_, out));
  proto::Frame in;
  BATON_RETURN_IF_ERROR(proto::ReadFrame(fd_, &dec_, &in));
  if (in.kind != proto::FrameKind::kReply || in.request_id != request_id) return Status::Corruption("bad reply");
  fs::Reply rep;
  BATON_RETURN_IF_ERROR(fs::DecodeReply(in.payload, &rep));
  return rep;
}

fs::Request MkReq(fs::Op op) {
  fs::Request r;
  r.op = op;
  return r;
}

fs::Request CreateReq(fs::Ino parent, const std::string& name, uint32_t mode) {
  fs::Request r = MkReq(fs::Op::kMknod);
  r.parent = parent;
  r.name = name;
  r.mode = mode;
  return r;
}

fs::Request MkdirReq(fs::Ino parent, const std::string& name) {
  fs::Request r = MkReq(fs::Op::kMkdir);
  r.parent = parent;
  r.name = name;
  r.mode = 040755;
  return r;
}

fs::Request LookupReq(fs::Ino parent, const std::string& name) {
  fs::Request r = MkReq(fs::Op::kLookup);
  r.parent = parent;
  r.name = name;
  return r;
}

fs::Request WriteReq(fs::Ino ino, uint64_t offset, const std::string& data, bool append) {
  fs::Request r = MkReq(fs::Op::kWrite);
  r.ino = ino;
  r.offset = offset;
  r.data = data;
  r.flags = append ? fs::kWriteAppend : 0;
  return r;
}

fs::Request ReadReq(fs::Ino ino, uint64_t offset, uint64_t length) {
  fs::Request r = MkReq(fs::Op::kRead);
  r.ino = ino;
  r.offset = offset;
  r.length = length;
  return r;
}

fs::Request InoReq(fs::Op op, fs::Ino ino) {
  fs::Request r = MkReq(op);
  r.ino = ino;
  return r;
}

}  // namespace baton::testing
