// The standby's building blocks, each on real files: the MDS info file
// (mds/mds_info.h), the election and the lease (mds/election.h), and the
// bootstrap of each MDS's own metadata store (mds/store_bootstrap.h).
// Deposition (CheckFence's exit 3) runs in forked children.
#define BOOST_TEST_MODULE standby_modules
#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <thread>

#include "base/checksum.h"
#include "base/env.h"
#include "fs/apply.h"
#include "fs/meta_store.h"
#include "fs/store_contents.h"
#include "journal/journal.h"
#include "journal/journal_tail.h"
#include "mds/election.h"
#include "mds/mds_info.h"
#include "mds/store_bootstrap.h"
#include "tests/mds/client_checks.h"
#include "tests/mds/mds_test_util.h"
#include "volume/superblock.h"
#include "volume/volume.h"

using namespace baton;
using namespace baton::mds;
using namespace baton::testing;

namespace {

using Clock = std::chrono::steady_clock;

int64_t MsSince(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

// ---- MDS info ----

MdsInfo SampleInfo() {
  MdsInfo i;
  i.volume_id = "0123abcd-0000-4000-8000-00000000beef";
  i.name = "mds-b.2_x";
  i.address = "127.0.0.1:65535";
  i.pid = 4194304;
  i.role = "standby";
  i.epoch = 18446744073709551615ull;
  i.heartbeat = 7;
  i.applied_lsn = 1000001;
  i.durable_lsn = 1000002;
  i.synced_lsn = 999999;
  i.sessions = 12;
  i.updated_ns = 1795000000123456789;
  return i;
}

void CheckSame(const MdsInfo& a, const MdsInfo& b) {
  BOOST_CHECK_EQUAL(a.volume_id, b.volume_id);
  BOOST_CHECK_EQUAL(a.name, b.name);
  BOOST_CHECK_EQUAL(a.address, b.address);
  BOOST_CHECK_EQUAL(a.pid, b.pid);
  BOOST_CHECK_EQUAL(a.role, b.role);
  BOOST_CHECK_EQUAL(a.epoch, b.epoch);
  BOOST_CHECK_EQUAL(a.heartbeat, b.heartbeat);
  BOOST_CHECK_EQUAL(a.applied_lsn, b.applied_lsn);
  BOOST_CHECK_EQUAL(a.durable_lsn, b.durable_lsn);
  BOOST_CHECK_EQUAL(a.synced_lsn, b.synced_lsn);
  BOOST_CHECK_EQUAL(a.sessions, b.sessions);
  BOOST_CHECK_EQUAL(a.updated_ns, b.updated_ns);
}

// The text part of an encoded info (before the NUL padding).
size_t TextLength(const std::string& encoded) { return encoded.find('\0'); }

// An info file built by hand from body lines, checksummed as docs/FORMAT.md
// says (xxHash3-64 of every byte before the checksum line, seed
// 0x6F666E6973646D62): a second, independent writer of the format.
std::string HandMadeInfo(const std::string& body) {
  char sum[40];
  std::snprintf(sum, sizeof sum, "checksum=%016" PRIx64 "\n", Checksum64(body, 0x6F666E6973646D62ull));
  std::string out = body + sum;
  out.resize(kMdsInfoBytes, '\0');
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// ---- election ----

ElectionOptions Opts(const std::string& vol, const std::string& name, uint32_t lease_ms = 200) {
  ElectionOptions o;
  o.volume_path = vol;
  o.name = name;
  o.address = "127.0.0.1:" + std::to_string(7000 + name.size());
  o.lease_ms = lease_ms;
  auto v = volume::Volume::Open(Env::Default(), vol);
  if (v.ok()) o.volume_id = volume::FormatVolumeId((*v)->superblock().volume_id);
  return o;
}

std::function<MdsInfo()> ActiveSnapshot(const std::string& address) {
  return [address] {
    MdsInfo i;
    i.role = "active";
    i.address = address;
    i.pid = static_cast<uint64_t>(::getpid());
    return i;
  };
}

uint64_t Inode(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

std::unique_ptr<Lease> MustWin(Election& e) {
  StatusOr<std::unique_ptr<Lease>> l = e.Poll();
  BOOST_REQUIRE_MESSAGE(l.ok(), l.status().ToString());
  BOOST_REQUIRE_MESSAGE(*l != nullptr, "Poll did not win; holder: " << e.DescribeHolder());
  return std::move(*l);
}

// Polls every poll_ms for duration_ms; fails if it ever wins. When the test
// process itself holds the lease with a running heartbeat, `holder` is
// stopped first: its next fence check would _Exit the test binary.
void MustNotWinFor(Election& e, int duration_ms, Lease* holder, int poll_ms = 10) {
  const auto t0 = Clock::now();
  while (MsSince(t0) < duration_ms) {
    StatusOr<std::unique_ptr<Lease>> l = e.Poll();
    BOOST_REQUIRE_MESSAGE(l.ok(), l.status().ToString());
    if (*l != nullptr) {
      if (holder != nullptr) holder->StopHeartbeat();
      BOOST_FAIL("the second MDS won after " << MsSince(t0) << " ms while the first holds the lease");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
}

// A forked child running fn (its return value is the exit status). Killed
// and reaped on every exit path. Pipes: the child says "ready" (a byte), the
// parent says "go" (a byte).
class Child {
 public:
  explicit Child(const std::function<int(Child&)>& fn) {
    BOOST_REQUIRE(::pipe(to_parent_) == 0 && ::pipe(to_child_) == 0);
    pid_ = ::fork();
    BOOST_REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::close(to_parent_[0]);
      ::close(to_child_[1]);
      std::_Exit(fn(*this));
    }
    ::close(to_parent_[1]);
    ::close(to_child_[0]);
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(to_parent_[0]);
    ::close(to_child_[1]);
  }
  // In the child.
  void Tell(char c) { (void)!::write(to_parent_[1], &c, 1); }
  char AwaitGo() {
    char c = 0;
    return ::read(to_child_[0], &c, 1) == 1 ? c : 0;
  }
  // In the parent: the child's next byte within timeout_ms (0 if none).
  char Hear(int timeout_ms) {
    struct pollfd p{to_parent_[0], POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return 0;
    char c = 0;
    return ::read(to_parent_[0], &c, 1) == 1 ? c : 0;
  }
  void Go(char c = 'g') { (void)!::write(to_child_[1], &c, 1); }
  // The exit status, or -1 if it did not exit within timeout_ms (-2: killed
  // by a signal).
  int WaitExit(int timeout_ms) {
    const auto t0 = Clock::now();
    while (MsSince(t0) < timeout_ms) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int to_parent_[2] = {-1, -1};
  int to_child_[2] = {-1, -1};
};

// ---- stores ----

struct StoreView {
  uint64_t applied_lsn = 0;
  uint64_t digest = 0;
};

StoreView ViewStore(volume::Volume& vol, const std::string& dir) {
  auto s = fs::MetaStore::Open(dir, vol.store_options(/*read_only=*/true));
  BOOST_REQUIRE_MESSAGE(s.ok(), dir << ": " << s.status().ToString());
  auto st = (*s)->ReadState();
  BOOST_REQUIRE(st.ok());
  auto d = fs::DigestStoreContents(**s);
  BOOST_REQUIRE(d.ok());
  return StoreView{st->applied_lsn, *d};
}

StoreView ViewOpen(fs::MetaStore& s) {
  auto st = s.ReadState();
  BOOST_REQUIRE(st.ok());
  auto d = fs::DigestStoreContents(s);
  BOOST_REQUIRE(d.ok());
  return StoreView{st->applied_lsn, *d};
}

// OpenOwnStore, closed again at once; what it holds.
StoreView OpenOwnAndView(volume::Volume& vol, const std::string& name) {
  auto s = OpenOwnStore(vol, name);
  BOOST_REQUIRE_MESSAGE(s.ok(), name << ": " << s.status().ToString());
  return ViewOpen(**s);
}

std::string LogTail(const std::string& path) {
  std::string log = ReadFile(path);
  return log.size() > 3000 ? log.substr(log.size() - 3000) : log;
}

// Runs an MDS named `name` on the volume, makes `files` files (and a
// directory) through the client library, stops it cleanly.
void RunMdsAndWrite(const std::string& volume, const std::string& name, const std::string& tag, int files) {
  MdsProcess mds(volume, FreeLocalAddress());
  mds.name = name;
  mds.checkpoint_interval_ms = 3600 * 1000;  // no trims: the test trims by hand
  BOOST_REQUIRE_MESSAGE(mds.Start(), "MDS did not start; its log:\n" << LogTail(mds.stderr_path()));
  {
    auto c = ConnectOrFail(mds.address(), 60000);
    fs::Reply d = MustCall(*c, MkdirReq(fs::kRootIno, "dir-" + tag));
    for (int i = 0; i < files; i++) {
      fs::Reply f = MustCall(*c, CreateReq(d.attr.ino, "f" + std::to_string(i)));
      MustCall(*c, WriteReq(f.attr.ino, 0, tag + " file " + std::to_string(i)));
    }
  }
  int rc = mds.Terminate();
  BOOST_REQUIRE_MESSAGE(rc == 0, "MDS exit status " << rc << "; its log:\n" << LogTail(mds.stderr_path()));
}

std::unique_ptr<volume::Volume> OpenVolume(const std::string& path) {
  auto v = volume::Volume::Open(Env::Default(), path);
  BOOST_REQUIRE_MESSAGE(v.ok(), v.status().ToString());
  return std::move(*v);
}

}  // namespace

// ======================= MDS info =======================

BOOST_AUTO_TEST_CASE(info_round_trip_every_field) {
  MdsInfo in = SampleInfo();
  std::string bytes = EncodeMdsInfo(in);
  BOOST_REQUIRE_EQUAL(bytes.size(), kMdsInfoBytes);
  BOOST_CHECK_EQUAL(bytes.rfind("baton-mds-info 1\n", 0), 0u);
  MdsInfo out;
  Status st = DecodeMdsInfo(bytes, &out);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.ToString());
  CheckSame(in, out);
  // Zero / empty values, and the longest name with a long address.
  MdsInfo empty;
  BOOST_REQUIRE(DecodeMdsInfo(EncodeMdsInfo(empty), &out).ok());
  CheckSame(empty, out);
  MdsInfo big = SampleInfo();
  big.name = std::string(64, 'n');
  big.address = std::string(253, 'h') + ":65535";
  big.role = "taking-over";
  BOOST_REQUIRE(ValidMdsName(big.name));
  std::string big_bytes = EncodeMdsInfo(big);
  BOOST_REQUIRE_EQUAL(big_bytes.size(), kMdsInfoBytes);
  st = DecodeMdsInfo(big_bytes, &out);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.ToString());
  CheckSame(big, out);
  // Each field on its own: a decoder that mixed two fields up would pass a
  // sample where they happen to be equal.
  for (int f = 0; f < 8; f++) {
    MdsInfo one;
    uint64_t v = 1000 + f;
    uint64_t* fields[] = {&one.pid, &one.epoch, &one.heartbeat, &one.applied_lsn, &one.durable_lsn, &one.synced_lsn,
                          &one.sessions};
    if (f < 7) *fields[f] = v;
    else one.updated_ns = static_cast<int64_t>(v);
    BOOST_REQUIRE(DecodeMdsInfo(EncodeMdsInfo(one), &out).ok());
    CheckSame(one, out);
  }
}

BOOST_AUTO_TEST_CASE(info_flipped_byte_or_truncation_fails) {
  const std::string bytes = EncodeMdsInfo(SampleInfo());
  const size_t text = TextLength(bytes);
  BOOST_REQUIRE(text != std::string::npos && text > 100 && text < kMdsInfoBytes);
  MdsInfo out;
  size_t accepted = 0;
  for (size_t i = 0; i <= text; i++) {  // every byte of the text and the first NUL after it
    for (uint8_t mask : {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80}) {
      std::string b = bytes;
      b[i] = static_cast<char>(b[i] ^ mask);
      if (DecodeMdsInfo(b, &out).ok()) {
        accepted++;
        BOOST_ERROR("byte " << i << " ^ " << int(mask) << " ('" << bytes[i] << "') was accepted");
      }
    }
    std::string z = bytes;
    z[i] = i < text ? '\0' : 'x';
    BOOST_CHECK_MESSAGE(!DecodeMdsInfo(z, &out).ok(), "byte " << i << " replaced was accepted");
  }
  BOOST_CHECK_EQUAL(accepted, 0u);
  // Cut anywhere inside the text: refused.
  for (size_t n = 0; n < text; n++) {
    BOOST_CHECK_MESSAGE(!DecodeMdsInfo(bytes.substr(0, n), &out).ok(), "cut at " << n << " was accepted");
  }
  // Cutting only NUL padding loses nothing (the text is whole).
  BOOST_CHECK(DecodeMdsInfo(bytes.substr(0, text), &out).ok());
  BOOST_CHECK(!DecodeMdsInfo("", &out).ok());
  BOOST_CHECK(!DecodeMdsInfo(std::string(kMdsInfoBytes, '\0'), &out).ok());
}

BOOST_AUTO_TEST_CASE(info_unknown_keys_ignored_and_bad_lines_refused) {
  // The hand-made writer agrees with EncodeMdsInfo (the checksum as documented).
  const std::string bytes = EncodeMdsInfo(SampleInfo());
  std::string body = bytes.substr(0, bytes.find("checksum="));
  BOOST_REQUIRE_EQUAL(HandMadeInfo(body), bytes);
  MdsInfo out;
  // Unknown keys anywhere (numeric values here; text values below).
  std::string future = "baton-mds-info 1\nzone=3\nvolume=" + SampleInfo().volume_id +
                       "\nname=x\nflux=42\naddress=h:1\npid=5\nrole=active\nepoch=9\nheartbeat=3\n"
                       "applied_lsn=70\ndurable_lsn=71\nsynced_lsn=69\nsessions=2\nupdated_ns=1234\nlast_word=0\n";
  Status st = DecodeMdsInfo(HandMadeInfo(future), &out);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.ToString());
  BOOST_CHECK_EQUAL(out.volume_id, SampleInfo().volume_id);
  BOOST_CHECK_EQUAL(out.name, "x");
  BOOST_CHECK_EQUAL(out.address, "h:1");
  BOOST_CHECK_EQUAL(out.pid, 5u);
  BOOST_CHECK_EQUAL(out.role, "active");
  BOOST_CHECK_EQUAL(out.epoch, 9u);
  BOOST_CHECK_EQUAL(out.heartbeat, 3u);
  BOOST_CHECK_EQUAL(out.applied_lsn, 70u);
  BOOST_CHECK_EQUAL(out.durable_lsn, 71u);
  BOOST_CHECK_EQUAL(out.synced_lsn, 69u);
  BOOST_CHECK_EQUAL(out.sessions, 2u);
  BOOST_CHECK_EQUAL(out.updated_ns, 1234);
  // Unknown keys with text values ("Unknown keys are ignored, so later
  // versions may add lines", docs/FORMAT.md): a later version's
  // "zone=eu-west" must not make this reader refuse the whole file.
  for (const char* line : {"zone=eu-west\n", "note=\n", "flags=a=b\n", "ratio=0.5\n", "offset=-3\n"}) {
    MdsInfo o2;
    std::string with = "baton-mds-info 1\nname=x\n" + std::string(line) + "epoch=9\n";
    st = DecodeMdsInfo(HandMadeInfo(with), &o2);
    BOOST_CHECK_MESSAGE(st.ok() && o2.epoch == 9 && o2.name == "x",
                        "unknown key line '" << std::string(line, std::strlen(line) - 1) << "': " << st.ToString());
  }
  // Keys in another order, some missing: missing ones are zero / empty.
  st = DecodeMdsInfo(HandMadeInfo("baton-mds-info 1\nepoch=4\nname=y\n"), &out);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.ToString());
  BOOST_CHECK_EQUAL(out.epoch, 4u);
  BOOST_CHECK_EQUAL(out.name, "y");
  BOOST_CHECK_EQUAL(out.applied_lsn, 0u);
  BOOST_CHECK_EQUAL(out.address, "");
  // Well checksummed but malformed: refused.
  for (const char* bad : {"baton-mds-info 1\nepoch=x\n", "baton-mds-info 1\nepoch=-1\n", "baton-mds-info 1\nepoch=\n",
                          "baton-mds-info 1\napplied_lsn=18446744073709551616\n", "baton-mds-info 1\nno equals sign\n",
                          "baton-mds-info 2\nname=z\n", "baton-mds-info 1", "mds-info 1\nname=z\n"}) {
    BOOST_CHECK_MESSAGE(!DecodeMdsInfo(HandMadeInfo(bad), &out).ok(), "accepted: " << bad);
  }
}

// A seeded randomized-mutation run over the decoder (the journal's fuzz test
// does the same for segments, tests/journal/journal_fuzz_test.cc): nothing
// crashes; a mutation of the text is refused; what decodes re-encodes to a
// file that decodes the same.
BOOST_AUTO_TEST_CASE(info_decoder_randomized_mutations) {
  uint64_t seed = SeedFromEnv();
  BOOST_TEST_MESSAGE("info_decoder_randomized_mutations: seed " << seed << " (rerun with BATON_SEED=" << seed << ")");
  std::fprintf(stderr, "info_decoder_randomized_mutations: seed %" PRIu64 "\n", seed);
  std::mt19937_64 rng(seed);
  auto rand_text = [&](size_t max) {
    std::string s(rng() % (max + 1), '\0');
    for (char& c : s) c = static_cast<char>(32 + rng() % 95);
    return s;
  };
  size_t decoded = 0, refused = 0;
  for (int iter = 0; iter < 30000; iter++) {
    MdsInfo in;
    in.volume_id = rand_text(40);
    in.name = rand_text(64);
    in.address = rand_text(80);
    in.role = rand_text(12);
    in.pid = rng();
    in.epoch = rng() >> (rng() % 64);
    in.heartbeat = rng();
    in.applied_lsn = rng() >> (rng() % 64);
    in.durable_lsn = rng();
    in.synced_lsn = rng();
    in.sessions = rng() % 1000;
    in.updated_ns = static_cast<int64_t>(rng() >> 1);
    const std::string orig = EncodeMdsInfo(in);
    const size_t text = TextLength(orig);
    std::string b = orig;
    switch (iter % 6) {
      case 0:  // flips
        for (int k = 0; k < 1 + static_cast<int>(rng() % 3); k++) b[rng() % (text + 1)] ^= static_cast<char>(1 + rng() % 255);
        break;
      case 1:  // truncation inside the text
        b.resize(rng() % text);
        break;
      case 2: {  // a byte inserted into the text
        b.insert(b.begin() + static_cast<long>(rng() % (text + 1)), static_cast<char>(rng()));
        break;
      }
      case 3: {  // a byte removed from the text
        b.erase(b.begin() + static_cast<long>(rng() % text));
        break;
      }
      case 4:  // random bytes
        b.resize(rng() % (2 * kMdsInfoBytes));
        for (char& c : b) c = static_cast<char>(rng());
        break;
      default: {  // a valid checksum over random lines: parsed, never trusted blindly
        std::string body = "baton-mds-info 1\n";
        int lines = static_cast<int>(rng() % 12);
        const char* keys[] = {"name", "address", "pid", "role", "epoch", "heartbeat", "applied_lsn", "durable_lsn",
                              "synced_lsn", "sessions", "updated_ns", "volume", "other"};
        for (int l = 0; l < lines; l++) {
          body += keys[rng() % 13];
          if (rng() % 8 != 0) body += "=";
          body += rng() % 2 ? std::to_string(rng() >> (rng() % 64)) : rand_text(10);
          body += "\n";
        }
        b = HandMadeInfo(body);
        break;
      }
    }
    MdsInfo out;
    Status st = DecodeMdsInfo(b, &out);
    if (!st.ok()) {
      refused++;
      continue;
    }
    decoded++;
    if (iter % 6 <= 3 && b.substr(0, b.find('\0')) != orig.substr(0, text)) {
      BOOST_FAIL("iteration " << iter << ": a mutated text was accepted (seed " << seed << ")");
    }
    MdsInfo again;
    BOOST_REQUIRE_MESSAGE(DecodeMdsInfo(EncodeMdsInfo(out), &again).ok(), "iteration " << iter);
    BOOST_REQUIRE_EQUAL(again.name, out.name);
    BOOST_REQUIRE_EQUAL(again.applied_lsn, out.applied_lsn);
    BOOST_REQUIRE_EQUAL(again.epoch, out.epoch);
  }
  BOOST_TEST_MESSAGE("decoded " << decoded << ", refused " << refused);
  // About a fifth of the 5,000 valid-checksum cases hold only well-formed
  // lines and decode: ~1,050 +- 30 over seeds (998 with seed 748922616, which
  // failed the old bound of 1,000). Half of that is ~18 standard deviations
  // away, and still fails if the decoder refuses everything.
  BOOST_CHECK_GT(decoded, 500u);
}

BOOST_AUTO_TEST_CASE(info_files_on_a_volume) {
  TempDir tmp;
  const std::string vol = tmp.path();
  const std::string uuid = "11111111-2222-4333-8444-555555555555";
  Env* env = Env::Default();
  MdsInfoWriter w(env, vol, "alpha", uuid);
  MdsInfo i = SampleInfo();
  i.name = "ignored";   // the writer stamps its own name,
  i.heartbeat = 500;    // heartbeat,
  i.updated_ns = 1;     // time and volume
  i.volume_id = "ignored";
  const int64_t before = env->NowRealtimeNanos();
  for (int k = 1; k <= 3; k++) {
    i.applied_lsn = 100 + k;
    BOOST_REQUIRE(w.Write(i).ok());
    auto r = ReadMdsInfo(env, vol, "alpha", uuid);
    BOOST_REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    BOOST_CHECK_EQUAL(r->name, "alpha");
    BOOST_CHECK_EQUAL(r->volume_id, uuid);
    BOOST_CHECK_EQUAL(r->heartbeat, static_cast<uint64_t>(k));
    BOOST_CHECK_EQUAL(r->applied_lsn, 100u + k);
    BOOST_CHECK_EQUAL(r->address, i.address);
    BOOST_CHECK_GE(r->updated_ns, before);
    BOOST_CHECK_LE(r->updated_ns, env->NowRealtimeNanos());
    BOOST_CHECK_EQUAL(std::filesystem::file_size(MdsInfoPath(vol, "alpha")), kMdsInfoBytes);
  }
  // Another volume's reader refuses it; no volume given accepts it.
  auto other = ReadMdsInfo(env, vol, "alpha", "99999999-2222-4333-8444-555555555555");
  BOOST_CHECK(!other.ok());
  BOOST_CHECK(ReadMdsInfo(env, vol, "alpha").ok());
  BOOST_CHECK(ReadMdsInfo(env, vol, "nobody").status().IsNotFound());
  // ListMdsInfos: skips bad names, garbage files, other volumes' files, and
  // directories without an info file.
  MdsInfoWriter w2(env, vol, "beta", uuid);
  BOOST_REQUIRE(w2.Write(MdsInfo{}).ok());
  MdsInfoWriter foreign(env, vol, "gamma", "99999999-2222-4333-8444-555555555555");
  BOOST_REQUIRE(foreign.Write(MdsInfo{}).ok());
  std::filesystem::create_directories(vol + "/mds/bad name");
  std::filesystem::copy_file(MdsInfoPath(vol, "beta"), vol + "/mds/bad name/info");
  std::filesystem::create_directories(vol + "/mds/garbage");
  {
    std::ofstream g(vol + "/mds/garbage/info", std::ios::binary);
    g << std::string(kMdsInfoBytes, 'g');
  }
  std::filesystem::create_directories(vol + "/mds/empty");
  std::vector<std::string> names;
  for (const MdsInfo& m : ListMdsInfos(env, vol, uuid)) names.push_back(m.name);
  std::sort(names.begin(), names.end());
  BOOST_CHECK((names == std::vector<std::string>{"alpha", "beta"}));
  names.clear();
  for (const MdsInfo& m : ListMdsInfos(env, vol)) names.push_back(m.name);
  std::sort(names.begin(), names.end());
  BOOST_CHECK((names == std::vector<std::string>{"alpha", "beta", "gamma"}));
  BOOST_CHECK(ListMdsInfos(env, tmp.path() + "/none").empty());
}

// A reader racing a writer that rewrites in place: every read that decodes
// is one whole version (the checksum), never a mix of two.
BOOST_AUTO_TEST_CASE(info_reads_racing_writes_are_whole) {
  TempDir tmp;
  Env* env = Env::Default();
  std::atomic<bool> stop{false};
  std::atomic<int> write_errors{0};
  MdsInfoWriter w(env, tmp.path(), "racer");
  {
    MdsInfo first;  // heartbeat 1: consistent with the rule below
    first.applied_lsn = 1;
    first.durable_lsn = 3;
    first.address = "a";
    BOOST_REQUIRE(w.Write(first).ok());
  }
  std::thread writer([&] {
    MdsInfo i;
    for (uint64_t k = 2; !stop.load(); k++) {
      i.applied_lsn = k;  // the writer's heartbeat will be k too
      i.durable_lsn = k * 3;
      i.address = std::string(k % 300, 'a');
      if (!w.Write(i).ok()) write_errors++;
    }
  });
  size_t ok = 0, failed = 0;
  uint64_t last_hb = 0;
  bool mixed = false, backwards = false;
  std::string first_mixed;
  const auto t0 = Clock::now();
  while (MsSince(t0) < 1500) {
    auto r = ReadMdsInfo(env, tmp.path(), "racer");
    if (!r.ok()) {
      failed++;
      continue;
    }
    ok++;
    if (r->applied_lsn != r->heartbeat || r->durable_lsn != 3 * r->heartbeat ||
        r->address.size() != r->heartbeat % 300) {
      if (!mixed)
        first_mixed = "heartbeat " + std::to_string(r->heartbeat) + " applied " + std::to_string(r->applied_lsn) +
                      " durable " + std::to_string(r->durable_lsn) + " address size " +
                      std::to_string(r->address.size());
      mixed = true;
    }
    if (r->heartbeat < last_hb) backwards = true;
    last_hb = r->heartbeat;
  }
  stop.store(true);
  writer.join();
  BOOST_TEST_MESSAGE("reads: " << ok << " whole, " << failed << " failed after retries");
  BOOST_CHECK_MESSAGE(!mixed, "a read mixed two versions: " << first_mixed);
  BOOST_CHECK(!backwards);
  BOOST_CHECK_EQUAL(write_errors.load(), 0);
  BOOST_CHECK_GT(ok, 100u);
}

BOOST_AUTO_TEST_CASE(mds_names) {
  for (const std::string& n : std::vector<std::string>{"a", "mds-1", "A.b_c-9", "127.0.0.1-7070", "...",
                                                       std::string(64, 'z'), "-x", "_"}) {
    BOOST_CHECK_MESSAGE(ValidMdsName(n), "refused: " << n);
  }
  for (const std::string& n : std::vector<std::string>{"", ".", "..", std::string(65, 'z'), "a/b", "a b", "a:b",
                                                       "caf\xc3\xa9", "a\n", std::string("a\0b", 3), "a=b", "/"}) {
    BOOST_CHECK_MESSAGE(!ValidMdsName(n), "accepted: '" << n << "'");
  }
  BOOST_CHECK_EQUAL(DefaultMdsName("127.0.0.1:7070"), "127.0.0.1-7070");
  BOOST_CHECK_EQUAL(DefaultMdsName("localhost:1"), "localhost-1");
  BOOST_CHECK_EQUAL(DefaultMdsName("[::1]:7070"), "---1--7070");
  BOOST_CHECK_EQUAL(DefaultMdsName("/run/baton.sock"), "-run-baton.sock");
  // Whatever the address, the default is a valid name.
  for (const std::string& a :
       std::vector<std::string>{"", "host name:1", std::string(70, 'h') + ":1", "h\xc3\xa9:1", "..", "."}) {
    std::string n = DefaultMdsName(a);
    BOOST_CHECK_MESSAGE(ValidMdsName(n), "'" << a << "' -> '" << n << "'");
  }
  BOOST_CHECK_EQUAL(DefaultMdsName(""), "mds");
  BOOST_CHECK_EQUAL(DefaultMdsName("host name:1"), "mds");
  BOOST_CHECK_EQUAL(HolderNameFromText("name=a1 address=h:1 pid=3 epoch=4"), "a1");
  BOOST_CHECK_EQUAL(HolderNameFromText("name=a1\n"), "a1");
  BOOST_CHECK_EQUAL(HolderNameFromText("name=a1"), "a1");
  BOOST_CHECK_EQUAL(HolderNameFromText(""), "");
  BOOST_CHECK_EQUAL(HolderNameFromText("address=h:1"), "");
}

// ======================= election and lease =======================

// Two Election objects in one process contend as two processes would (OFD
// locks belong to open file descriptions).
BOOST_AUTO_TEST_CASE(first_poll_wins_and_a_released_lock_is_taken_at_once) {
  TempDir tmp;
  const std::string vol = MakeVolume(tmp);
  Election e1(Env::Default(), Opts(vol, "one")), e2(Env::Default(), Opts(vol, "two"));
  std::unique_ptr<Lease> l1 = MustWin(e1);
  BOOST_CHECK_EQUAL(e2.HolderName(), "one");  // Poll names the winner at once
  l1->StartHeartbeat(ActiveSnapshot("127.0.0.1:1"));
  BOOST_CHECK(l1->Fresh());
  BOOST_CHECK_NE(e2.DescribeHolder().find("pid=" + std::to_string(::getpid())), std::string::npos);
  // Several leases long: the heartbeat keeps it.
  MustNotWinFor(e2, 700, l1.get());
  BOOST_CHECK(l1->Fresh());
  auto info = ReadMdsInfo(Env::Default(), vol, "one");
  BOOST_REQUIRE(info.ok());
  BOOST_CHECK_EQUAL(info->role, "active");
  BOOST_CHECK_GT(info->heartbeat, 10u);  // 700 ms at one beat per 20 ms
  // The holder goes away (process death drops the lock the same way).
  const uint64_t ino = Inode(vol + "/lock");
  l1.reset();
  const auto t0 = Clock::now();
  std::unique_ptr<Lease> l2 = MustWin(e2);
  BOOST_CHECK_LT(MsSince(t0), 100);
  BOOST_CHECK_EQUAL(Inode(vol + "/lock"), ino);  // taken, not replaced
  BOOST_CHECK_EQUAL(e1.HolderName(), "two");     // no longer the previous holder's text
  // And now the first one is the one refused.
  StatusOr<std::unique_ptr<Lease>> again = e1.Poll();
  BOOST_REQUIRE(again.ok());
  BOOST_CHECK(*again == nullptr);
}

// A holder whose heartbeat stops (hung, but its lock is held) is taken over
// after lease_ms of silence, not before, by replacing VOLUME/lock; its lease
// has lapsed by then.
BOOST_AUTO_TEST_CASE(a_silent_holder_is_taken_over_after_the_lease) {
  TempDir tmp;
  const std::string vol = MakeVolume(tmp);
  const uint32_t lease_ms = 200;
  Election e1(Env::Default(), Opts(vol, "one", lease_ms)), e2(Env::Default(), Opts(vol, "two", lease_ms));
  std::unique_ptr<Lease> l1 = MustWin(e1);
  l1->WriteHolderText();
  l1->StartHeartbeat(ActiveSnapshot("127.0.0.1:1"));
  MustNotWinFor(e2, 500, l1.get());
  const uint64_t old_ino = Inode(vol + "/lock");
  // Timed from just before the stop: the last beat is at most one interval
  // earlier, however long joining the heartbeat thread takes (a CI run under
  // the sanitizers took over 169 ms after StopHeartbeat returned, 11 ms less
  // than lease - interval, when timed from after it).
  const auto stopped = Clock::now();
  l1->StopHeartbeat();  // the Lease (and its lock) lives on
  std::unique_ptr<Lease> l2;
  bool lapsed_before = false;
  while (!l2) {
    BOOST_REQUIRE_MESSAGE(MsSince(stopped) < 5000, "no takeover 5 s after the heartbeat stopped");
    StatusOr<std::unique_ptr<Lease>> r = e2.Poll();
    BOOST_REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    lapsed_before = !l1->Fresh();
    l2 = std::move(*r);
    if (!l2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const int64_t took_ms = MsSince(stopped);
  BOOST_TEST_MESSAGE("taken over " << took_ms << " ms after the heartbeat stopped (lease " << lease_ms << " ms)");
  // The last beat may have been up to one interval before the stop.
  BOOST_CHECK_GE(took_ms, static_cast<int64_t>(lease_ms - HeartbeatIntervalMs(lease_ms)) - 10);
  BOOST_CHECK_LT(took_ms, 2000);
  BOOST_CHECK_MESSAGE(lapsed_before, "the old holder's lease was still fresh when it was taken over");
  BOOST_CHECK(!l1->Fresh());
  const uint64_t new_ino = Inode(vol + "/lock");
  BOOST_CHECK_NE(new_ino, 0u);
  BOOST_CHECK_NE(new_ino, old_ino);
  BOOST_CHECK(!std::filesystem::exists(vol + "/lock.two.new"));
  BOOST_CHECK_EQUAL(e1.HolderName(), "two");
  // The new holder's lock is a real lock: the old one cannot win it back,
  // and the new holder keeps it while it beats.
  l2->StartHeartbeat(ActiveSnapshot("127.0.0.1:2"));
  MustNotWinFor(e1, 600, l2.get());
  l2->StopHeartbeat();
  // Destroy l1 (the deposed lease) without fence checks: its destructor only
  // closes its file.
  l1.reset();
}

// A holder that never publishes a heartbeat (no info file) is taken to be
// silent: it is taken over after lease_ms, not before.
BOOST_AUTO_TEST_CASE(a_holder_without_a_heartbeat_is_taken_over) {
  TempDir tmp;
  const std::string vol = MakeVolume(tmp);
  Election e1(Env::Default(), Opts(vol, "one", 200)), e2(Env::Default(), Opts(vol, "two", 200));
  std::unique_ptr<Lease> l1 = MustWin(e1);
  const auto t0 = Clock::now();
  std::unique_ptr<Lease> l2;
  while (!l2 && MsSince(t0) < 5000) {
    auto r = e2.Poll();
    BOOST_REQUIRE(r.ok());
    l2 = std::move(*r);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  BOOST_REQUIRE(l2);
  BOOST_CHECK_GE(MsSince(t0), 190);
}

// Two standbys (processes) watch the same silent holder: exactly one takes
// over; the other then watches the new holder's heartbeat and leaves it be
// (a second takeover would depose the first winner: it would exit 3).
BOOST_AUTO_TEST_CASE(one_of_two_standbys_takes_over) {
  TempDir tmp;
  const std::string vol = MakeVolume(tmp);
  Election e1(Env::Default(), Opts(vol, "one", 200));
  std::unique_ptr<Lease> l1 = MustWin(e1);  // never beats: silent
  auto standby = [&vol](const std::string& name) {
    return [&vol, name](Child& me) {
      Election e(Env::Default(), Opts(vol, name, 200));
      std::unique_ptr<Lease> mine;
      const auto t0 = Clock::now();
      me.AwaitGo();
      // Poll for 2 s, then only hold on until 2.5 s: a winner that exited
      // first would free the lock for the other (a win that is not a race).
      while (MsSince(t0) < 2500) {
        if (!mine && MsSince(t0) < 2000) {
          auto l = e.Poll();
          if (!l.ok()) return 10;
          if (*l) {
            mine = std::move(*l);
            mine->StartHeartbeat(ActiveSnapshot("127.0.0.1:9"));
            me.Tell('w');
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      if (mine) mine->StopHeartbeat();
      return 0;
    };
  };
  Child a(standby("two")), b(standby("three"));
  a.Go();
  b.Go();
  // Both run their whole 2.5 s, then what they said is counted.
  BOOST_CHECK_EQUAL(a.WaitExit(10000), 0);
  BOOST_CHECK_EQUAL(b.WaitExit(10000), 0);
  int wins = (a.Hear(0) == 'w') + (b.Hear(0) == 'w');
  BOOST_CHECK_EQUAL(wins, 1);
  const std::string holder = e1.HolderName();
  BOOST_CHECK_MESSAGE(holder == "two" || holder == "three", "holder " << holder);
}

// Deposition by a raised epoch: CheckFence exits the process with 3; before
// the epoch moves it returns.
BOOST_AUTO_TEST_CASE(check_fence_exits_3_when_the_epoch_moves) {
  TempDir tmp;
  const std::string vol = MakeVolume(tmp);
  const uint64_t epoch = OpenVolume(vol)->superblock().epoch + 1;
  BOOST_REQUIRE(OpenVolume(vol)->SetEpoch(epoch).ok());
  Child child([&](Child& me) {
    Election e(Env::Default(), Opts(vol, "child"));
    auto l = e.Poll();
    if (!l.ok() || *l == nullptr) return 10;
    (*l)->set_epoch(epoch);
    (*l)->WriteHolderText();
    (*l)->CheckFence();  // ours: returns
    me.Tell('r');
    if (me.AwaitGo() != 'g') return 11;
    (*l)->CheckFence();  // must not return
    return 0;
  });
  BOOST_REQUIRE_EQUAL(child.Hear(10000), 'r');
  auto v = OpenVolume(vol);
  BOOST_REQUIRE(v->SetEpoch(epoch + 1).ok());
  child.Go();
  BOOST_CHECK_EQUAL(child.WaitExit(10000), kDeposedExitCode);
}

// Control: nothing changes, CheckFence returns (the child exits 0).
BOOST_AUTO_TEST_CASE(check_fence_returns_when_nothing_moved) {
  TempDir tmp;
  const std::string vol = MakeVolume(tmp);
  const uint64_t epoch = OpenVolume(vol)->superblock().epoch;
  Child child([&](Child& me) {
    Election e(Env::Default(), Opts(vol, "child"));
    auto l = e.Poll();
    if (!l.ok() || *l == nullptr) return 10;
    (*l)->set_epoch(epoch);
    me.Tell('r');
    if (me.AwaitGo() != 'g') return 11;
    for (int i = 0; i < 10; i++) (*l)->CheckFence();
    return 0;
  });
  BOOST_REQUIRE_EQUAL(child.Hear(10000), 'r');
  child.Go();
  BOOST_CHECK_EQUAL(child.WaitExit(10000), 0);
}

// Deposition by a replaced lock: the parent's Election takes over the
// child's silent lease; the child's CheckFence exits 3 (epoch 0: only the
// lock file is checked).
BOOST_AUTO_TEST_CASE(check_fence_exits_3_when_the_lock_is_replaced) {
  TempDir tmp;
  const std::string vol = MakeVolume(tmp);
  Child child([&](Child& me) {
    Election e(Env::Default(), Opts(vol, "child", 200));
    auto l = e.Poll();
    if (!l.ok() || *l == nullptr) return 10;
    (*l)->WriteHolderText();
    (*l)->CheckFence();
    me.Tell('r');
    if (me.AwaitGo() != 'g') return 11;
    (*l)->CheckFence();
    return 0;
  });
  BOOST_REQUIRE_EQUAL(child.Hear(10000), 'r');
  Election mine(Env::Default(), Opts(vol, "parent", 200));
  const auto t0 = Clock::now();
  std::unique_ptr<Lease> l;
  while (!l) {
    BOOST_REQUIRE(MsSince(t0) < 5000);
    auto r = mine.Poll();
    BOOST_REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    l = std::move(*r);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  BOOST_CHECK_GE(MsSince(t0), 190);
  child.Go();
  BOOST_CHECK_EQUAL(child.WaitExit(10000), kDeposedExitCode);
}

// The heartbeat thread checks the fence by itself: a child that only beats
// exits 3 within a few intervals of the epoch moving.
BOOST_AUTO_TEST_CASE(heartbeat_exits_3_when_deposed) {
  TempDir tmp;
  const std::string vol = MakeVolume(tmp);
  const uint64_t epoch = OpenVolume(vol)->superblock().epoch;
  Child child([&](Child& me) {
    Election e(Env::Default(), Opts(vol, "child", 200));
    auto l = e.Poll();
    if (!l.ok() || *l == nullptr) return 10;
    (*l)->set_epoch(epoch);
    (*l)->WriteHolderText();
    (*l)->StartHeartbeat(ActiveSnapshot("127.0.0.1:3"));
    me.Tell('r');
    std::this_thread::sleep_for(std::chrono::seconds(30));
    return 0;
  });
  BOOST_REQUIRE_EQUAL(child.Hear(10000), 'r');
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto v = OpenVolume(vol);
  BOOST_REQUIRE(v->SetEpoch(epoch + 1).ok());
  const auto t0 = Clock::now();
  BOOST_CHECK_EQUAL(child.WaitExit(10000), kDeposedExitCode);
  BOOST_CHECK_LT(MsSince(t0), 1000);
}

// ======================= store bootstrap =======================

BOOST_AUTO_TEST_CASE(own_store_on_a_fresh_volume_is_mkfs_copy) {
  TempDir tmp;
  const std::string path = MakeVolume(tmp);
  auto vol = OpenVolume(path);
  const StoreView mkfs = ViewStore(*vol, vol->meta_dir());
  BOOST_CHECK_EQUAL(mkfs.applied_lsn, 0u);
  StoreView own = OpenOwnAndView(*vol, "m1");
  BOOST_CHECK_EQUAL(own.applied_lsn, 0u);
  BOOST_CHECK_EQUAL(own.digest, mkfs.digest);
  BOOST_CHECK(std::filesystem::exists(OwnStoreDir(*vol, "m1") + "/data.mdb"));
  BOOST_CHECK_EQUAL(OwnStoreDir(*vol, "m1"), path + "/mds/m1/meta");
  BOOST_CHECK(!std::filesystem::exists(OwnStoreDir(*vol, "m1") + ".new"));
  // Opened again: the same store, not a new copy.
  const uint64_t ino = Inode(OwnStoreDir(*vol, "m1") + "/data.mdb");
  OpenOwnAndView(*vol, "m1");
  BOOST_CHECK_EQUAL(Inode(OwnStoreDir(*vol, "m1") + "/data.mdb"), ino);
}

// Stores seeded from the most advanced store the journal continues; a store
// the journal still continues is kept; one it no longer continues is
// re-seeded; with none left, kNotFound and nothing replaced.
BOOST_AUTO_TEST_CASE(own_store_seeds_from_the_most_advanced_store) {
  TempDir tmp;
  const std::string path = MakeVolume(tmp);
  RunMdsAndWrite(path, "alpha", "one", 5);
  auto vol = OpenVolume(path);
  const StoreView a1 = ViewStore(*vol, OwnStoreDir(*vol, "alpha"));
  BOOST_TEST_MESSAGE("alpha's store after run 1: applied lsn " << a1.applied_lsn);
  BOOST_REQUIRE_GT(a1.applied_lsn, 10u);
  BOOST_CHECK_NE(a1.digest, ViewStore(*vol, vol->meta_dir()).digest);
  StoreView beta = OpenOwnAndView(*vol, "beta");
  BOOST_CHECK_EQUAL(beta.applied_lsn, a1.applied_lsn);
  BOOST_CHECK_EQUAL(beta.digest, a1.digest);
  StoreView gamma = OpenOwnAndView(*vol, "gamma");
  BOOST_CHECK_EQUAL(gamma.applied_lsn, a1.applied_lsn);

  RunMdsAndWrite(path, "alpha", "two", 5);
  const StoreView a2 = ViewStore(*vol, OwnStoreDir(*vol, "alpha"));
  BOOST_TEST_MESSAGE("alpha's store after run 2: applied lsn " << a2.applied_lsn);
  BOOST_REQUIRE_GT(a2.applied_lsn, a1.applied_lsn);
  // gamma is behind but the journal continues it: kept as it is.
  gamma = OpenOwnAndView(*vol, "gamma");
  BOOST_CHECK_EQUAL(gamma.applied_lsn, a1.applied_lsn);
  BOOST_CHECK_EQUAL(gamma.digest, a1.digest);
  // A new name: from alpha (ahead of beta, gamma and VOLUME/meta).
  StoreView delta = OpenOwnAndView(*vol, "delta");
  BOOST_CHECK_EQUAL(delta.applied_lsn, a2.applied_lsn);
  BOOST_CHECK_EQUAL(delta.digest, a2.digest);
  {  // ReseedOwnStore throws beta's store away for the best one.
    auto b = OpenOwnStore(*vol, "beta");
    BOOST_REQUIRE(b.ok());
    auto nb = ReseedOwnStore(*vol, "beta", std::move(*b));
    BOOST_REQUIRE_MESSAGE(nb.ok(), nb.status().ToString());
    StoreView v = ViewOpen(**nb);
    BOOST_CHECK_EQUAL(v.applied_lsn, a2.applied_lsn);
    BOOST_CHECK_EQUAL(v.digest, a2.digest);
  }
  // The journal trimmed past gamma (and VOLUME/meta): gamma is re-seeded.
  BOOST_REQUIRE(vol->ReloadSuperblock().ok());
  auto jnl = journal::Journal::Open(vol->journal_options());
  BOOST_REQUIRE_MESSAGE(jnl.ok(), jnl.status().ToString());
  BOOST_REQUIRE_EQUAL((*jnl)->next_lsn(), a2.applied_lsn + 1);
  BOOST_REQUIRE((*jnl)->Trim(a2.applied_lsn).ok());
  auto first = journal::FirstJournalLsn(vol->env(), vol->journal_dir(), vol->superblock().volume_id);
  BOOST_REQUIRE(first.ok());
  BOOST_REQUIRE_EQUAL(*first, a2.applied_lsn + 1);
  gamma = OpenOwnAndView(*vol, "gamma");
  BOOST_CHECK_EQUAL(gamma.applied_lsn, a2.applied_lsn);
  BOOST_CHECK_EQUAL(gamma.digest, a2.digest);
  // Trimmed past every store: nothing can be seeded, and the existing store
  // (now behind the journal) is left where it is.
  BOOST_REQUIRE((*jnl)->Append(static_cast<uint16_t>(fs::kJournalTypeOp + 100), "not an op").ok());
  BOOST_REQUIRE((*jnl)->Close().ok());
  jnl = journal::Journal::Open(vol->journal_options());
  BOOST_REQUIRE(jnl.ok());
  BOOST_REQUIRE((*jnl)->Trim(a2.applied_lsn + 1).ok());
  BOOST_REQUIRE_EQUAL(*journal::FirstJournalLsn(vol->env(), vol->journal_dir(), vol->superblock().volume_id),
                      a2.applied_lsn + 2);
  auto none = OpenOwnStore(*vol, "eta");
  BOOST_CHECK_MESSAGE(none.status().IsNotFound(), none.status().ToString());
  const uint64_t gamma_ino = Inode(OwnStoreDir(*vol, "gamma") + "/data.mdb");
  auto g = OpenOwnStore(*vol, "gamma");
  BOOST_CHECK_MESSAGE(g.status().IsNotFound(), g.status().ToString());
  BOOST_CHECK_EQUAL(Inode(OwnStoreDir(*vol, "gamma") + "/data.mdb"), gamma_ino);
  BOOST_CHECK_EQUAL(ViewStore(*vol, OwnStoreDir(*vol, "gamma")).applied_lsn, a2.applied_lsn);
}

// A store copied from another volume is refused as this MDS's store (and
// left alone), and never used as a seed for another MDS.
BOOST_AUTO_TEST_CASE(store_of_another_volume_is_refused) {
  TempDir tmp1, tmp2;
  const std::string path1 = MakeVolume(tmp1), path2 = MakeVolume(tmp2);
  auto vol1 = OpenVolume(path1), vol2 = OpenVolume(path2);
  BOOST_REQUIRE(!(vol1->superblock().volume_id == vol2->superblock().volume_id));
  {  // vol2's store for "x", advanced far beyond anything of vol1
    auto s = OpenOwnStore(*vol2, "x");
    BOOST_REQUIRE(s.ok());
    fs::JournaledOp op;
    op.lsn = 1000;
    op.rec.stamp.time_ns = 1;
    op.rec.stamp.new_ino = 2;
    op.rec.req = MkdirReq(fs::kRootIno, "from-another-volume");
    std::vector<fs::ApplyResult> res;
    BOOST_REQUIRE(fs::ApplyBatch(**s, std::span<const fs::JournaledOp>(&op, 1), &res).ok());
    BOOST_REQUIRE_EQUAL((*s)->ReadState()->applied_lsn, 1000u);
  }
  std::filesystem::create_directories(path1 + "/mds/x");
  std::filesystem::copy(OwnStoreDir(*vol2, "x"), OwnStoreDir(*vol1, "x"), std::filesystem::copy_options::recursive);
  const std::string data = OwnStoreDir(*vol1, "x") + "/data.mdb";
  const std::string before = ReadFile(data);
  const uint64_t ino = Inode(data);
  auto s = OpenOwnStore(*vol1, "x");
  BOOST_CHECK_MESSAGE(!s.ok(), "a store of another volume was opened");
  if (!s.ok()) BOOST_TEST_MESSAGE("refused: " << s.status().ToString());
  s = StatusOr<std::unique_ptr<fs::MetaStore>>(Status::Closed("closed"));  // closes it if it was opened
  BOOST_CHECK_EQUAL(Inode(data), ino);
  BOOST_CHECK(ReadFile(data) == before);
  // A new MDS of vol1 seeds from vol1's own stores only.
  StoreView y = OpenOwnAndView(*vol1, "y");
  BOOST_CHECK_EQUAL(y.applied_lsn, 0u);
  BOOST_CHECK_EQUAL(y.digest, ViewStore(*vol1, vol1->meta_dir()).digest);
}

// A damaged own store is refused and left alone as well (an administrator
// decides), whether its file is garbage or empty.
BOOST_AUTO_TEST_CASE(damaged_own_store_is_refused) {
  TempDir tmp;
  const std::string path = MakeVolume(tmp);
  auto vol = OpenVolume(path);
  OpenOwnAndView(*vol, "m");
  const std::string data = OwnStoreDir(*vol, "m") + "/data.mdb";
  std::mt19937_64 rng(7);
  for (size_t size : {size_t{0}, size_t{100}, size_t{16384}}) {
    std::string junk(size, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    {
      std::ofstream out(data, std::ios::binary | std::ios::trunc);
      out.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
    auto s = OpenOwnStore(*vol, "m");
    BOOST_CHECK_MESSAGE(!s.ok(), "a store of " << size << " junk bytes was opened");
    if (!s.ok()) BOOST_TEST_MESSAGE(size << " junk bytes: " << s.status().ToString());
    s = StatusOr<std::unique_ptr<fs::MetaStore>>(Status::Closed("closed"));
    // LMDB makes an empty data.mdb a new, empty environment when it opens
    // it (fs/meta_store.cc opens read-write): that file changes, but it is
    // refused all the same, now and later. Any other damage is untouched.
    if (size > 0) BOOST_CHECK_MESSAGE(ReadFile(data) == junk, "the damaged store (" << size << " bytes) was changed");
    BOOST_CHECK(!OpenOwnStore(*vol, "m").ok());
  }
}
