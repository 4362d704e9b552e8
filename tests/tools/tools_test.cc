// The administration tools run as a user would run them: the real `baton`
// binary (BATON_BIN) against volumes written by a real MDS process.
#define BOOST_TEST_MODULE tools_test
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "client/client.h"
#include "journal/journal_format.h"
#include "tests/mds/mds_test_util.h"
#include "tools/journal_scanner.h"
#include "volume/superblock_format.h"
#include "volume/volume.h"

using namespace baton;
using baton::testing::MdsProcess;
using baton::testing::TempDir;
using baton::testing::FreeLocalAddress;
using baton::testing::MakeVolume;

namespace {

std::string BatonBin() {
  const char* b = getenv("BATON_BIN");
  BOOST_REQUIRE_MESSAGE(b != nullptr, "BATON_BIN must name the baton binary (ctest sets it)");
  return b;
}

struct Run {
  int rc = -1;
  std::string out;
};

// Runs `baton ARGS` through the shell, capturing stdout and stderr.
Run Baton(const std::string& args) {
  Run r;
  std::string cmd = BatonBin() + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  BOOST_REQUIRE(p != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

int CountLines(const std::string& s, const std::string& needle) {
  int n = 0;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) n++;
  return n;
}

fs::Request Req(fs::Op op) {
  fs::Request r;
  r.op = op;
  return r;
}

// Runs a small mixed workload through a real MDS and stops it cleanly.
void Populate(const std::string& vol, bool clean_stop = true) {
  MdsProcess mds(vol, baton::testing::FreeLocalAddress());
  BOOST_REQUIRE(mds.Start());
  auto c = client::Client::Connect({mds.address()});
  BOOST_REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  auto call = [&](fs::Request r) {
    auto rep = (*c)->Call(r);
    BOOST_REQUIRE(rep.ok());
    return *rep;
  };
  fs::Request mk = Req(fs::Op::kMkdir);
  mk.parent = fs::kRootIno, mk.name = "dir", mk.mode = 040755;
  fs::Ino dir = call(mk).attr.ino;
  BOOST_REQUIRE(dir != 0);
  for (int i = 0; i < 20; i++) {
    fs::Request cr = Req(fs::Op::kMknod);
    cr.parent = dir, cr.name = "f" + std::to_string(i), cr.mode = 0100644;
    fs::Ino ino = call(cr).attr.ino;
    fs::Request w = Req(fs::Op::kWrite);
    w.ino = ino, w.offset = 0, w.data = std::string(1000 + i * 100, static_cast<char>('a' + i));
    BOOST_REQUIRE(call(w).err == 0);
  }
  fs::Request rn = Req(fs::Op::kRename);
  rn.parent = dir, rn.name = "f0", rn.new_parent = fs::kRootIno, rn.new_name = "moved";
  BOOST_REQUIRE(call(rn).err == 0);
  fs::Request ul = Req(fs::Op::kUnlink);
  ul.parent = dir, ul.name = "f1";
  BOOST_REQUIRE(call(ul).err == 0);
  fs::Request sl = Req(fs::Op::kSymlink);
  sl.parent = fs::kRootIno, sl.name = "link", sl.data = "dir/f2";
  BOOST_REQUIRE(call(sl).err == 0);
  (*c)->Close();
  if (clean_stop) BOOST_TEST(mds.Terminate() == 0);
  else mds.Kill9();
}

std::vector<tools::ScannedRecord> ScanRecords(const std::string& vol) {
  auto v = volume::Volume::Open(Env::Default(), vol);
  BOOST_REQUIRE(v.ok());
  tools::ScanOptions so;
  so.env = Env::Default();
  so.dir = (*v)->journal_dir();
  std::vector<tools::ScannedRecord> recs;
  tools::ScanSummary sum;
  BOOST_REQUIRE(tools::ScanJournal(so, [&](const tools::ScannedRecord& r) { recs.push_back(r); },
                                   [](const tools::ScanProblem&) {}, &sum)
                    .ok());
  return recs;
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x10);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

std::string SegmentPath(const std::string& vol, uint64_t seq) {
  char name[64];
  snprintf(name, sizeof name, "%s/journal/seg-%016llx.log", vol.c_str(), static_cast<unsigned long long>(seq));
  return name;
}

}  // namespace

BOOST_AUTO_TEST_CASE(mkfs_and_fsck_usage_and_exit_codes) {
  TempDir t;
  const std::string vol = t.path() + "/vol";
  Run r = Baton("mkfs " + vol + " --label L --meta-map 1G");
  BOOST_TEST(r.rc == 0, r.out);
  BOOST_TEST(r.out.find("volume id") != std::string::npos);
  r = Baton("mkfs " + vol);
  BOOST_TEST(r.rc == 1);
  BOOST_TEST(r.out.find("already holds a BatonFS volume") != std::string::npos, r.out);
  // mkfs.baton is the same program, chosen by its name.
  const std::string mkfs_link = BatonBin().substr(0, BatonBin().rfind('/')) + "/mkfs.baton";
  r = Run{};
  {
    FILE* p = popen((mkfs_link + " " + t.path() + "/vol2 --meta-map 1G 2>&1").c_str(), "r");
    char buf[512];
    while (fgets(buf, sizeof buf, p)) r.out += buf;
    r.rc = WEXITSTATUS(pclose(p));
  }
  BOOST_TEST(r.rc == 0, r.out);
  r = Baton("fsck " + vol);
  BOOST_TEST(r.rc == 0, r.out);
  BOOST_TEST(r.out.find("clean") != std::string::npos);
  r = Baton("fsck " + t.path() + "/no-such-volume");
  BOOST_TEST(r.rc == 8, r.out);
  BOOST_TEST(r.out.find("no-such-volume") != std::string::npos);
  r = Baton("fsck");
  BOOST_TEST(r.rc == 16, r.out);
  r = Baton("fsck --bogus " + vol);
  BOOST_TEST(r.rc == 16, r.out);
}

BOOST_AUTO_TEST_CASE(fsck_clean_and_dump_selects_exact_lsns) {
  TempDir t;
  const std::string vol = t.path() + "/vol";
  BOOST_REQUIRE(Baton("mkfs " + vol + " --meta-map 1G").rc == 0);
  Populate(vol);
  Run r = Baton("fsck " + vol);
  BOOST_TEST(r.rc == 0, r.out);
  r = Baton("journal verify " + vol);
  BOOST_TEST(r.rc == 0, r.out);
  r = Baton("journal dump " + vol + " --lsn 5..9");
  BOOST_TEST(r.rc == 0, r.out);
  BOOST_TEST(CountLines(r.out, "lsn=") == 5, r.out);
  for (int lsn = 5; lsn <= 9; lsn++) BOOST_TEST(CountLines(r.out, "lsn=" + std::to_string(lsn) + " ") == 1);
  r = Baton("journal dump " + vol + " --type mkdir");
  BOOST_TEST(CountLines(r.out, "lsn=") == 1, r.out);
  r = Baton("journal dump " + vol);
  // 1 mkdir + 20 creates + 20 writes + rename + unlink + symlink (+ internal reclaim records).
  BOOST_TEST(CountLines(r.out, "lsn=") >= 44, r.out);
  r = Baton("journal stat " + vol);
  BOOST_TEST(r.rc == 0, r.out);
  BOOST_TEST(r.out.find("segments") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(fsck_after_kill9_is_clean) {
  TempDir t;
  const std::string vol = t.path() + "/vol";
  BOOST_REQUIRE(Baton("mkfs " + vol + " --meta-map 1G").rc == 0);
  Populate(vol, /*clean_stop=*/false);
  Run r = Baton("fsck " + vol);
  BOOST_TEST(r.rc == 0, r.out);
}

BOOST_AUTO_TEST_CASE(fsck_and_verify_report_middle_journal_corruption) {
  TempDir t;
  const std::string vol = t.path() + "/vol";
  BOOST_REQUIRE(Baton("mkfs " + vol + " --meta-map 1G").rc == 0);
  Populate(vol);
  auto recs = ScanRecords(vol);
  BOOST_REQUIRE(recs.size() > 10);
  const auto& victim = recs[recs.size() / 2];
  FlipByte(SegmentPath(vol, victim.segment_seq), victim.offset + journal::format::kRecordHeaderSize + 1);
  Run r = Baton("journal verify " + vol);
  BOOST_TEST(r.rc == 1, r.out);
  BOOST_TEST(r.out.find("bad-checksum") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("offset " + std::to_string(victim.offset)) != std::string::npos, r.out);
  r = Baton("fsck " + vol);
  BOOST_TEST(r.rc == 4, r.out);
  BOOST_TEST(r.out.find("bad-checksum") != std::string::npos, r.out);
  // dump reads past the damage: the records after it are still listed.
  r = Baton("journal dump " + vol);
  BOOST_TEST(r.out.find("lsn=" + std::to_string(recs.back().lsn) + " ") != std::string::npos, r.out);
}

BOOST_AUTO_TEST_CASE(fsck_reports_a_damaged_superblock_copy) {
  TempDir t;
  const std::string vol = t.path() + "/vol";
  BOOST_REQUIRE(Baton("mkfs " + vol + " --meta-map 1G").rc == 0);
  FlipByte(vol + "/superblock", volume::sb_off::kEpoch);
  Run r = Baton("fsck " + vol);
  BOOST_TEST(r.rc == 4, r.out);
  BOOST_TEST(r.out.find("damaged-copy") != std::string::npos, r.out);
  // Both copies damaged: the error names the volume and the field.
  FlipByte(vol + "/superblock", volume::kSuperblockSlotBytes);
  r = Baton("fsck " + vol);
  BOOST_TEST(r.rc == 4, r.out);
  BOOST_TEST(r.out.find(vol) != std::string::npos, r.out);
  BOOST_TEST(r.out.find("magic") != std::string::npos, r.out);
  r = Baton("mds " + vol + " --listen " + baton::testing::FreeLocalAddress());
  BOOST_TEST(r.rc != 0, r.out);
  BOOST_TEST(r.out.find("superblock") != std::string::npos, r.out);
}

BOOST_AUTO_TEST_CASE(status_reports_the_active_and_unreachable_addresses) {
  TempDir t;
  const std::string vol = t.path() + "/vol";
  BOOST_REQUIRE(Baton("mkfs " + vol + " --meta-map 1G").rc == 0);
  MdsProcess mds(vol, baton::testing::FreeLocalAddress());
  BOOST_REQUIRE(mds.Start());
  const std::string dead = baton::testing::FreeLocalAddress();  // nothing listens there
  Run r = Baton("status " + mds.address() + "," + dead);
  BOOST_TEST(r.rc == 0, r.out);
  BOOST_TEST(CountLines(r.out, mds.address() + " ") == 1, r.out);
  BOOST_TEST(r.out.find("active") != std::string::npos, r.out);
  BOOST_TEST(CountLines(r.out, "unreachable") == 1, r.out);
  r = Baton("status --json " + mds.address());
  BOOST_TEST(r.rc == 0, r.out);
  BOOST_TEST(r.out.find("\"role\":\"active\"") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("\"epoch\":2") != std::string::npos, r.out);  // mkfs made epoch 1; this MDS raised it
  // --watch: one JSON array per round; text rounds each under a time stamp.
  r = Baton("status --watch --json --interval-ms 100 --count 3 " + mds.address());
  BOOST_TEST(r.rc == 0, r.out);
  BOOST_TEST(CountLines(r.out, "[{\"address\":") == 3, r.out);
  r = Baton("status --watch --interval-ms 100 --count 2 " + mds.address());
  BOOST_TEST(r.rc == 0, r.out);
  BOOST_TEST(CountLines(r.out, "(every 100 ms; ^C ends)") == 2, r.out);
  BOOST_TEST(CountLines(r.out, mds.address() + " ") == 2, r.out);
  r = Baton("status --count 2 " + mds.address());  // --count needs --watch
  BOOST_TEST(r.rc == 2, r.out);
  mds.Kill9();
  r = Baton("status " + mds.address());
  BOOST_TEST(r.rc == 1, r.out);
  // With no active answering in its last round, a watch exits 1.
  r = Baton("status --watch --interval-ms 100 --count 2 --timeout-ms 200 " + mds.address());
  BOOST_TEST(r.rc == 1, r.out);
  r = Baton("status");
  BOOST_TEST(r.rc == 2, r.out);
}

// The systemd unit's ExecStart, with the example settings, really starts an
// MDS that becomes active under its instance name, and SIGTERM (systemd's
// stop) ends it with 0; a second instance on the same address exits 2, which
// the unit's RestartPreventExitStatus keeps from restarting in a loop.
BOOST_AUTO_TEST_CASE(systemd_unit_exec_start_runs_an_mds) {
  const std::string bin = BatonBin();
  std::ifstream unit(bin.substr(0, bin.rfind('/')) + "/baton-mds@.service");
  BOOST_REQUIRE_MESSAGE(unit.good(), "baton-mds@.service not generated next to the baton binary");
  std::string line, exec, prevent, restart;
  while (std::getline(unit, line)) {
    if (line.rfind("ExecStart=", 0) == 0) exec = line.substr(10);
    if (line.rfind("RestartPreventExitStatus=", 0) == 0) prevent = line.substr(25);
    if (line.rfind("Restart=", 0) == 0) restart = line.substr(8);
  }
  BOOST_TEST(restart == "always");
  BOOST_TEST(prevent == "2");
  TempDir dir;
  const std::string vol = MakeVolume(dir), addr = FreeLocalAddress();
  // Expand it as systemd would for baton-mds@unit-a with the example settings.
  std::vector<std::string> args;
  std::istringstream words(exec);
  for (std::string w; words >> w;) {
    if (w == "${BATON_VOLUME}") w = vol;
    else if (w == "${BATON_LISTEN}") w = addr;
    else if (w == "%i") w = "unit-a";
    else if (w == "$BATON_MDS_OPTS") w = "--lease-ms=1000";
    if (w.rfind("--lease-ms=", 0) == 0) {
      args.push_back("--lease-ms");
      w = w.substr(11);
    }
    args.push_back(w);
  }
  BOOST_REQUIRE(args.size() > 2);
  BOOST_TEST(args[0].find("/bin/baton") != std::string::npos, args[0]);
  args[0] = bin;  // the unit names the installed path; run this build's
  auto spawn = [&](const std::string& log) {
    pid_t pid = ::fork();
    if (pid == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      std::_Exit(127);
    }
    return pid;
  };
  pid_t pid = spawn(dir.path() + "/unit-a.log");
  BOOST_REQUIRE(pid > 0);
  bool active = false;
  for (int i = 0; i < 500 && !active; i++) {
    auto st = client::QueryStatus(addr, 200);
    active = st.ok() && st->role == proto::Role::kActive && st->name == "unit-a";
    if (!active) ::usleep(20000);
  }
  BOOST_TEST(active);
  BOOST_TEST(::access((vol + "/mds/unit-a/meta/data.mdb").c_str(), F_OK) == 0);
  pid_t second = spawn(dir.path() + "/unit-b.log");
  int ws = 0;
  BOOST_REQUIRE(::waitpid(second, &ws, 0) == second);
  BOOST_TEST((WIFEXITED(ws) && WEXITSTATUS(ws) == 2));
  ::kill(pid, SIGTERM);
  BOOST_REQUIRE(::waitpid(pid, &ws, 0) == pid);
  BOOST_TEST((WIFEXITED(ws) && WEXITSTATUS(ws) == 0));
}
