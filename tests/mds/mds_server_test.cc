// The MDS through the client library and raw frames: every op, pipelining,
// garbage on the port, exactly once across a restart, a second MDS refused.
// The MDS runs as a child process (tests/mds/mds_test_util.h).
#define BOOST_TEST_MODULE mds_server_test
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "base/coding.h"
#include "client/client.h"
#include "mds/mds.h"
#include "proto/net.h"
#include "tests/mds/client_checks.h"
#include "tests/mds/mds_test_util.h"

using namespace baton;
using namespace baton::testing;
using baton::client::Client;

namespace {

struct Fixture {
  TempDir dir;
  std::string vol = MakeVolume(dir);
  MdsProcess mds{vol, FreeLocalAddress(), 1000};
  Fixture() { BOOST_REQUIRE_MESSAGE(mds.Start(), "MDS did not start; see " + mds.stderr_path()); }
  std::unique_ptr<Client> NewClient() {
    return ConnectOrFail(mds.address(), -1);
  }
};

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(every_op_round_trip, Fixture) {
  auto c = NewClient();
  BOOST_TEST(c->session_id() != 0u);
  BOOST_TEST(c->epoch() >= 2u);
  fs::Attr d = MustCall(*c, MkdirReq(fs::kRootIno, "d")).attr;
  BOOST_TEST(S_ISDIR(d.mode));
  fs::Attr f = MustCall(*c, CreateReq(d.ino, "f")).attr;
  BOOST_TEST(S_ISREG(f.mode));
  BOOST_TEST(f.ino != d.ino);
  MustCall(*c, CreateReq(d.ino, "f"), EEXIST);
  BOOST_TEST(MustCall(*c, LookupReq(d.ino, "f")).attr.ino == f.ino);
  MustCall(*c, LookupReq(d.ino, "nope"), ENOENT);
  BOOST_TEST(MustCall(*c, InoReq(fs::Op::kGetattr, f.ino)).attr.ino == f.ino);

  fs::Request open = InoReq(fs::Op::kOpen, f.ino);
  open.flags = O_RDWR;
  MustCall(*c, open);
  fs::Reply w = MustCall(*c, WriteReq(f.ino, 0, "hello world"));
  BOOST_TEST(w.attr.size == 11u);
  BOOST_TEST(w.offset == 11u);
  MustCall(*c, WriteReq(f.ino, 0, "!", true));
  BOOST_TEST(MustCall(*c, ReadReq(f.ino, 0, 100)).data == "hello world!");
  BOOST_TEST(MustCall(*c, ReadReq(f.ino, 6, 5)).data == "world");

  fs::Request trunc = InoReq(fs::Op::kSetattr, f.ino);
  trunc.set.valid = fs::kSetSize | fs::kSetMode;
  trunc.set.size = 5;
  trunc.set.mode = 0600;
  fs::Attr ta = MustCall(*c, trunc).attr;
  BOOST_TEST(ta.size == 5u);
  BOOST_TEST((ta.mode & 07777) == 0600u);

  fs::Request fal = InoReq(fs::Op::kFallocate, f.ino);
  fal.offset = 0;
  fal.length = 8192;
  BOOST_TEST(MustCall(*c, fal).attr.size == 8192u);
  fs::Request seek = InoReq(fs::Op::kSeekData, f.ino);
  seek.flags = SEEK_DATA;
  MustCall(*c, seek);

  fs::Request sx = InoReq(fs::Op::kSetxattr, f.ino);
  sx.name = "user.k";
  sx.data = "v1";
  MustCall(*c, sx);
  fs::Request gx = InoReq(fs::Op::kGetxattr, f.ino);
  gx.name = "user.k";
  gx.length = 100;
  BOOST_TEST(MustCall(*c, gx).data == "v1");
  fs::Request lx = InoReq(fs::Op::kListxattr, f.ino);
  lx.length = 100;
  BOOST_TEST(MustCall(*c, lx).data.find("user.k") != std::string::npos);
  fs::Request rx = InoReq(fs::Op::kRemovexattr, f.ino);
  rx.name = "user.k";
  MustCall(*c, rx);
  MustCall(*c, gx, ENODATA);

  fs::Request sym = MkReq(fs::Op::kSymlink);
  sym.parent = d.ino;
  sym.name = "s";
  sym.data = "f";
  fs::Attr sa = MustCall(*c, sym).attr;
  BOOST_TEST(MustCall(*c, InoReq(fs::Op::kReadlink, sa.ino)).data == "f");

  fs::Request link = InoReq(fs::Op::kLink, f.ino);
  link.new_parent = fs::kRootIno;
  link.new_name = "hard";
  BOOST_TEST(MustCall(*c, link).attr.nlink == 2u);

  fs::Request ren = MkReq(fs::Op::kRename);
  ren.parent = d.ino;
  ren.name = "s";
  ren.new_parent = fs::kRootIno;
  ren.new_name = "s2";
  MustCall(*c, ren);
  MustCall(*c, LookupReq(fs::kRootIno, "s2"));

  fs::Request rd = InoReq(fs::Op::kReaddir, fs::kRootIno);
  rd.length = 100;
  std::set<std::string> names;
  for (const auto& e : MustCall(*c, rd).entries) names.insert(e.name);
  BOOST_TEST(names.count("d") == 1u);
  BOOST_TEST(names.count("hard") == 1u);
  BOOST_TEST(names.count("s2") == 1u);

  fs::Request acc = InoReq(fs::Op::kAccess, f.ino);
  acc.mode = R_OK | W_OK;
  MustCall(*c, acc);
  BOOST_TEST(MustCall(*c, MkReq(fs::Op::kStatfs)).has_statfs);
  MustCall(*c, InoReq(fs::Op::kFsync, f.ino));
  MustCall(*c, InoReq(fs::Op::kFsync, 0));

  fs::Request un = MkReq(fs::Op::kUnlink);
  un.parent = d.ino;
  un.name = "f";
  MustCall(*c, un);
  un.parent = fs::kRootIno;
  un.name = "hard";
  MustCall(*c, un);  // last link: an orphan while open
  BOOST_TEST(MustCall(*c, ReadReq(f.ino, 0, 5)).data == "hello");
  MustCall(*c, InoReq(fs::Op::kRelease, f.ino));  // last holder: reclaimed
  fs::Request rm = MkReq(fs::Op::kRmdir);
  rm.parent = fs::kRootIno;
  rm.name = "d";
  MustCall(*c, rm);
  MustCall(*c, LookupReq(fs::kRootIno, "d"), ENOENT);
  // The reclaim record is journaled after the release's batch; poll for it.
  int err = 0;
  for (int i = 0; i < 100 && err != ENOENT; i++) {
    err = c->Call(InoReq(fs::Op::kGetattr, f.ino))->err;
    if (err != ENOENT) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  BOOST_TEST(err == ENOENT);

  auto st = client::QueryStatus(mds.address(), 2000);
  BOOST_REQUIRE(st.ok());
  BOOST_TEST((st->role == proto::Role::kActive));
  BOOST_TEST(st->sessions >= 1u);
  BOOST_TEST(st->applied_lsn >= 10u);
  BOOST_TEST(st->durable_lsn >= st->applied_lsn);
  BOOST_TEST(st->address == mds.address());
}

BOOST_FIXTURE_TEST_CASE(pipelined_from_many_threads, Fixture) {
  auto c = NewClient();
  constexpr int kThreads = 8, kPerThread = 150;
  std::atomic<int> failures{0};
  std::vector<std::thread> ts;
  std::vector<std::vector<fs::Ino>> inos(kThreads);
  for (int t = 0; t < kThreads; t++) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; i++) {
        auto r = c->Call(CreateReq(fs::kRootIno, "t" + std::to_string(t) + "-" + std::to_string(i)));
        if (!r.ok() || r->err != 0) {
          failures++;
          continue;
        }
        inos[t].push_back(r->attr.ino);
        auto g = c->Call(InoReq(fs::Op::kGetattr, r->attr.ino));
        if (!g.ok() || g->err != 0 || g->attr.ino != r->attr.ino) failures++;
      }
    });
  }
  for (auto& t : ts) t.join();
  BOOST_TEST(failures.load() == 0);
  std::set<fs::Ino> all;
  for (auto& v : inos) all.insert(v.begin(), v.end());
  BOOST_TEST(all.size() == static_cast<size_t>(kThreads * kPerThread));
  size_t entries = 0;
  fs::Request rd = InoReq(fs::Op::kReaddir, fs::kRootIno);
  for (;;) {
    rd.length = 500;
    fs::Reply r = MustCall(*c, rd);
    if (r.entries.empty()) break;
    for (const auto& e : r.entries) entries += e.name != "." && e.name != "..";
    rd.offset = r.entries.back().cookie;
  }
  BOOST_TEST(entries == static_cast<size_t>(kThreads * kPerThread));
}

namespace {

// One garbage connection: sends `bytes`, then expects the MDS to close it.
bool GarbageClosed(const std::string& addr, const std::string& bytes) {
  StatusOr<int> fd = proto::ConnectTcp(addr, 2000);
  if (!fd.ok()) return false;
  timeval tv{5, 0};
  ::setsockopt(*fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  proto::WriteAll(*fd, bytes).PermitUnchecked();
  char buf[4096];
  bool closed = false;
  for (;;) {  // an ERROR frame may come first; then EOF or reset
    ssize_t n = ::recv(*fd, buf, sizeof buf, 0);
    if (n <= 0) {
      closed = n == 0 || errno == ECONNRESET;
      break;
    }
  }
  proto::CloseFd(*fd);
  return closed;
}

std::string GarbageCase(std::mt19937_64& rng, int i) {
  std::string g(32 + rng() % 200, '\0');
  for (char& ch : g) ch = static_cast<char>(rng());
  switch (i % 6) {
    case 0: g[0] = 'x'; return g;  // bad magic
    case 1: {                        // oversized length
      proto::Frame f{proto::FrameKind::kHello, 0, 0, 0, "x"};
      std::string b = proto::EncodeFrame(f);
      StoreU32(b.data() + proto::kOffPayloadLen, 0x7fffffff);
      return b;
    }
    case 2: {  // bad checksum
      std::string b = proto::EncodeFrame({proto::FrameKind::kHello, 0, 0, 0, g});
      b.back() ^= 1;
      return b;
    }
    case 3: {  // wrong protocol version
      proto::Hello h{proto::kProtocolVersion + 1 + static_cast<uint32_t>(rng() % 100), 0, "old"};
      return proto::EncodeFrame({proto::FrameKind::kHello, 0, 0, 0, proto::EncodeHello(h)});
    }
    case 4:  // a request before HELLO
      return proto::EncodeFrame({proto::FrameKind::kRequest, 2, 0, 1, proto::MakeRequestPayload(0, "junk")});
    default: {  // a valid HELLO then an undecodable request
      proto::Hello h{proto::kProtocolVersion, 0, "fuzz"};
      return proto::EncodeFrame({proto::FrameKind::kHello, 0, 0, 0, proto::EncodeHello(h)}) +
             proto::EncodeFrame({proto::FrameKind::kRequest, 2, 0, 1, proto::MakeRequestPayload(0, g)});
    }
  }
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(garbage_closes_only_that_connection, Fixture) {
  uint64_t seed = SeedFromEnv();
  BOOST_TEST_MESSAGE("seed " << seed);
  auto good = NewClient();
  std::atomic<bool> stop{false};
  std::atomic<int> good_ops{0}, good_failures{0};
  std::thread worker([&] {
    for (int i = 0; !stop; i++) {
      auto r = good->Call(CreateReq(fs::kRootIno, "ok" + std::to_string(i)));
      if (r.ok() && r->err == 0) good_ops++; else good_failures++;
    }
  });
  constexpr int kGarbage = 1000;
  std::atomic<int> closed{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; t++) {
    ts.emplace_back([&, t] {
      std::mt19937_64 rng(seed + t);
      for (int i = t; i < kGarbage; i += 4) closed += GarbageClosed(mds.address(), GarbageCase(rng, i));
    });
  }
  for (auto& t : ts) t.join();
  stop = true;
  worker.join();
  BOOST_TEST(closed.load() == kGarbage);
  BOOST_TEST(good_failures.load() == 0);
  BOOST_TEST(good_ops.load() > 0);
  BOOST_TEST(good->stats().reconnects == 0u);
  MustCall(*good, InoReq(fs::Op::kGetattr, fs::kRootIno));
  BOOST_TEST(mds.running());
  std::string log = ReadAll(mds.stderr_path());
  BOOST_TEST(log.find("bad magic") != std::string::npos);
  BOOST_TEST(log.find("bad checksum") != std::string::npos);
  BOOST_TEST(log.find("protocol version") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(wrong_version_gets_an_error_frame, Fixture) {
  StatusOr<int> fd = proto::ConnectTcp(mds.address(), 2000);
  BOOST_REQUIRE(fd.ok());
  proto::Hello h{99, 0, "future"};
  BOOST_REQUIRE(proto::SendFrame(*fd, {proto::FrameKind::kHello, 0, 0, 0, proto::EncodeHello(h)}).ok());
  proto::FrameDecoder dec;
  proto::Frame f;
  BOOST_REQUIRE(proto::ReadFrame(*fd, &dec, &f).ok());
  BOOST_TEST(static_cast<int>(f.kind) == static_cast<int>(proto::FrameKind::kError));
  proto::ErrorBody e;
  BOOST_REQUIRE(proto::DecodeErrorBody(f.payload, &e).ok());
  BOOST_TEST(e.message.find("protocol version 99") != std::string::npos);
  BOOST_TEST((proto::ReadFrame(*fd, &dec, &f).code() == Code::kClosed));
  proto::CloseFd(*fd);
}

BOOST_AUTO_TEST_CASE(exactly_once_across_restart) {
  TempDir dir;
  std::string vol = MakeVolume(dir);
  MdsProcess mds(vol, FreeLocalAddress());
  BOOST_REQUIRE(mds.Start());
  uint64_t session;
  fs::Reply created, written;
  {
    auto s = RawSession::Open(mds.address(), 0);
    BOOST_REQUIRE(s.ok());
    session = (*s)->session_id();
    auto c = (*s)->Call(1, 1, CreateReq(fs::kRootIno, "once"));
    BOOST_REQUIRE(c.ok() && c->err == 0);
    created = *c;
    auto w = (*s)->Call(2, 1, WriteReq(created.attr.ino, 0, "abc", true));
    BOOST_REQUIRE(w.ok() && w->err == 0);
    written = *w;
  }
  mds.Kill9();
  BOOST_REQUIRE(mds.Start());
  auto s = RawSession::Open(mds.address(), session);
  BOOST_REQUIRE(s.ok());
  BOOST_TEST((*s)->session_id() == session);
  // Replies 1 and 2 were "lost": oldest_unreplied stays 1.
  auto c2 = (*s)->Call(1, 1, CreateReq(fs::kRootIno, "once"));  // same id: the first answer, not EEXIST
  BOOST_REQUIRE(c2.ok());
  BOOST_TEST(c2->err == 0);
  BOOST_TEST(c2->attr.ino == created.attr.ino);
  auto w2 = (*s)->Call(2, 1, WriteReq(created.attr.ino, 0, "abc", true));
  BOOST_REQUIRE(w2.ok());
  BOOST_TEST(w2->attr.size == 3u);
  auto g = (*s)->Call(3, 3, InoReq(fs::Op::kGetattr, created.attr.ino));
  BOOST_REQUIRE(g.ok());
  BOOST_TEST(g->attr.size == 3u);  // the append was not doubled
  auto again = (*s)->Call(4, 3, CreateReq(fs::kRootIno, "once"));  // a new id: a new request
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->err == EEXIST);
  // A clean stop (SIGTERM) exits 0.
  BOOST_TEST(mds.Terminate() == 0);
}

namespace {

fs::Request CreateThatOpens(const std::string& name) {
  fs::Request create = CreateReq(fs::kRootIno, name);
  create.flags = fs::kMknodOpen;
  return create;
}

// Sends create as request 1 of a new raw session, which then disconnects:
// returns the new inode, *session the session id (to re-send it later).
fs::Ino FirstCreateOfNewSession(const std::string& address, const fs::Request& create, uint64_t* session) {
  auto s = RawSession::Open(address, 0);
  BOOST_REQUIRE(s.ok());
  *session = (*s)->session_id();
  auto c = (*s)->Call(1, 1, create);
  BOOST_REQUIRE(c.ok() && c->err == 0);
  return c->attr.ino;
}

}  // namespace

// A create with fs::kMknodOpen holds its new file for the session as a kOpen
// would: another session's unlink leaves an orphan that is not reclaimed,
// also after a restart, when the re-sent create is answered from the
// exactly-once table and must hold it again; the release then reclaims it.
BOOST_AUTO_TEST_CASE(create_that_opens_holds_the_file_also_when_resent) {
  TempDir dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress(), /*orphan_grace_ms=*/300);
  BOOST_REQUIRE(mds.Start());
  fs::Request create = CreateThatOpens("held");
  uint64_t session;
  fs::Ino ino = FirstCreateOfNewSession(mds.address(), create, &session);
  auto other = Client::Connect({mds.address()});
  BOOST_REQUIRE(other.ok());
  MustCall(**other, WriteReq(ino, 0, "data"));
  fs::Request un = MkReq(fs::Op::kUnlink);
  un.parent = fs::kRootIno;
  un.name = "held";
  MustCall(**other, un);
  std::this_thread::sleep_for(std::chrono::milliseconds(900));  // past the grace period
  BOOST_TEST(MustCall(**other, ReadReq(ino, 0, 10)).data == "data");  // held, not reclaimed

  mds.Kill9();
  BOOST_REQUIRE(mds.Start());
  auto s = RawSession::Open(mds.address(), session);
  BOOST_REQUIRE(s.ok());
  auto again = (*s)->Call(1, 1, create);  // its reply was "lost": the stored one, and the hold again
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->err == 0);
  BOOST_TEST(again->attr.ino == ino);
  std::this_thread::sleep_for(std::chrono::milliseconds(900));  // past the new grace period
  BOOST_TEST(MustCall(**other, ReadReq(ino, 0, 10)).data == "data");

  auto released = (*s)->Call(2, 2, InoReq(fs::Op::kRelease, ino));
  BOOST_REQUIRE(released.ok());
  int err = 0;
  for (int i = 0; i < 100 && err != ENOENT; i++) {
    err = (*other)->Call(InoReq(fs::Op::kGetattr, ino))->err;
    if (err != ENOENT) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  BOOST_TEST(err == ENOENT);  // reclaimed at its release
}

// A create that opens whose reply was lost, re-sent only after its file was
// unlinked by another session and reclaimed (the client came back after the
// grace period): the stored success would hand out a file that is gone, so
// the MDS answers ENOENT and holds nothing (review finding).
BOOST_AUTO_TEST_CASE(create_that_opens_resent_after_its_file_was_reclaimed) {
  TempDir dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress(), /*orphan_grace_ms=*/300);
  BOOST_REQUIRE(mds.Start());
  fs::Request create = CreateThatOpens("gone");
  uint64_t session;
  fs::Ino ino = FirstCreateOfNewSession(mds.address(), create, &session);
  mds.Kill9();  // the hold is gone with the process; nobody re-sends it
  BOOST_REQUIRE(mds.Start());
  auto other = Client::Connect({mds.address()});
  BOOST_REQUIRE(other.ok());
  fs::Request un = MkReq(fs::Op::kUnlink);
  un.parent = fs::kRootIno;
  un.name = "gone";
  MustCall(**other, un);
  int err = 0;
  for (int i = 0; i < 200 && err != ENOENT; i++) {  // reclaimed once the grace period is over
    err = (*other)->Call(InoReq(fs::Op::kGetattr, ino))->err;
    if (err != ENOENT) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  BOOST_REQUIRE(err == ENOENT);
  auto s = RawSession::Open(mds.address(), session);
  BOOST_REQUIRE(s.ok());
  auto again = (*s)->Call(1, 1, create);
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->err == ENOENT);
}

BOOST_AUTO_TEST_CASE(second_mds_refuses) {
  TempDir dir;
  std::string vol = MakeVolume(dir);
  MdsProcess first(vol, FreeLocalAddress());
  BOOST_REQUIRE(first.Start());
  MdsProcess second(vol, FreeLocalAddress());
  BOOST_TEST(!second.Start(5000));
  // Start() reaped it; run it once more in-process to see the exit code.
  mds::MdsOptions o;
  o.volume_path = vol;
  o.listen_addr = FreeLocalAddress();
  o.install_signal_handlers = false;
  o.standby = false;  // --exclusive
  BOOST_TEST(mds::RunMds(o) == 2);
  std::string log = ReadAll(second.stderr_path());
  BOOST_TEST_MESSAGE("second MDS said: " << log);
  BOOST_TEST(log.find("already served") != std::string::npos);
  BOOST_TEST(client::QueryStatus(first.address(), 2000).ok());  // the first one is unharmed
  // Without --exclusive it becomes a standby, and SIGTERM still stops it at once.
  MdsProcess standby(vol, FreeLocalAddress(), 30000, /*standby=*/true);
  BOOST_REQUIRE(standby.Spawn());
  BOOST_TEST(standby.WaitRole(proto::Role::kStandby, 10000));
  BOOST_TEST(standby.Terminate() == 0);
  BOOST_TEST(client::QueryStatus(first.address(), 2000).ok());
}

// A client that has seen a newer epoch than the MDS serves is refused with
// kFenced (the MDS may have been deposed); the MDS checks its fence, finds the
// volume still at its own epoch, and keeps serving everyone else.
BOOST_AUTO_TEST_CASE(hello_with_a_newer_known_epoch_is_refused) {
  TempDir dir;
  std::string vol = MakeVolume(dir);
  MdsProcess mds(vol, FreeLocalAddress());
  BOOST_REQUIRE(mds.Start());
  uint64_t epoch = client::QueryStatus(mds.address(), 2000)->epoch;
  auto fd = proto::ConnectTcp(mds.address(), 2000);
  BOOST_REQUIRE(fd.ok());
  proto::Hello h{proto::kProtocolVersion, 0, "from-the-future", epoch + 5};
  BOOST_REQUIRE(proto::SendFrame(*fd, {proto::FrameKind::kHello, 0, 0, 0, proto::EncodeHello(h)}).ok());
  proto::FrameDecoder dec;
  proto::Frame f;
  BOOST_REQUIRE(proto::ReadFrame(*fd, &dec, &f).ok());
  BOOST_TEST(static_cast<int>(f.kind) == static_cast<int>(proto::FrameKind::kError));
  proto::ErrorBody e;
  BOOST_REQUIRE(proto::DecodeErrorBody(f.payload, &e).ok());
  BOOST_TEST(e.code == static_cast<uint32_t>(Code::kFenced));
  BOOST_TEST(e.message.find("has seen epoch") != std::string::npos, e.message);
  proto::CloseFd(*fd);
  // Not deposed: still serving, same epoch, and an up-to-date client works.
  auto c = Client::Connect({mds.address()});
  BOOST_REQUIRE(c.ok());
  auto r = (*c)->Call(CreateReq(fs::kRootIno, "after"));
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->err == 0);
  BOOST_TEST(client::QueryStatus(mds.address(), 2000)->epoch == epoch);
  // The old wire form (no known_epoch) still decodes, as 0.
  proto::Hello old;
  std::string enc = proto::EncodeHello(h);
  BOOST_REQUIRE(proto::DecodeHello(std::string_view(enc).substr(0, enc.size() - 8), &old).ok());
  BOOST_TEST(old.known_epoch == 0u);
}

// A standby answers STATUS and HELLO at once even while other connections to
// it send nothing (each is answered on its own thread).
BOOST_AUTO_TEST_CASE(standby_answers_while_a_connection_is_silent) {
  TempDir dir;
  std::string vol = MakeVolume(dir);
  MdsProcess active(vol, FreeLocalAddress());
  BOOST_REQUIRE(active.Start());
  MdsProcess standby(vol, FreeLocalAddress(), 30000, /*standby=*/true);
  BOOST_REQUIRE(standby.Spawn());
  BOOST_REQUIRE(standby.WaitRole(proto::Role::kStandby, 10000));
  std::vector<int> silent;
  for (int i = 0; i < 3; i++) {
    auto fd = proto::ConnectTcp(standby.address(), 2000);
    BOOST_REQUIRE(fd.ok());
    silent.push_back(*fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // all three accepted
  auto t0 = std::chrono::steady_clock::now();
  auto st = client::QueryStatus(standby.address(), 2000);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  BOOST_REQUIRE(st.ok());
  BOOST_TEST((st->role == proto::Role::kStandby));
  BOOST_TEST(st->active_address == active.address());
  BOOST_TEST_MESSAGE("STATUS from the standby in " << ms << " ms with 3 silent connections open");
  BOOST_TEST(ms < 1000);  // not behind the three silent connections' 500 ms read timeouts (1.5 s)
  for (int fd : silent) proto::CloseFd(fd);
}
