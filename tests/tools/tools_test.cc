// The administration tools run as a user would run them: the real `baton`
// binary (BATON_BIN) against volumes written by a real MDS process.
#define BOOST_TEST_MODULE tools_test
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

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

// Runs a shell command line, capturing its stdout (add 2>&1 for stderr).
Run Shell(const std::string& cmd) {
  baton::testing::CommandResult c = baton::testing::RunCommand(cmd);
  return Run{c.code, c.out};
}

// Runs `baton ARGS` through the shell, capturing stdout and stderr.
Run Baton(const std::string& args) { return Shell(BatonBin() + " " + args + " 2>&1"); }

// 'text' quoted for the shell.
std::string Quote(const std::string& text) {
  std::string q = "'";
  for (char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string ToolsDir() { return BatonBin().substr(0, BatonBin().rfind('/')); }

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

// The sections of every manual (`baton SUB --help`), in order.
const std::vector<std::string> kManSections = {"NAME",        "SYNOPSIS", "DESCRIPTION", "OPTIONS",
                                               "EXIT STATUS", "EXAMPLES", "SEE ALSO"};

// A manual split into sections: a line at column 0 is a heading, the
// indented lines under it are its body. 'problems' names each line that is
// wider than 80 columns, holds a tab or is indented by one space only.
struct Manual {
  std::vector<std::string> headings;
  std::map<std::string, std::vector<std::string>> body;
  std::string problems;
};

Manual ParseManual(const std::string& text) {
  Manual m;
  std::istringstream in(text);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    const std::string where = "line " + std::to_string(++n) + " '" + line + "': ";
    if (line.size() > 80) m.problems += where + std::to_string(line.size()) + " columns\n";
    if (line.find('\t') != std::string::npos) m.problems += where + "a tab\n";
    if (line.empty()) continue;
    if (line[0] != ' ') {
      m.headings.push_back(line);
    } else if (line.rfind("  ", 0) != 0 || m.headings.empty()) {
      m.problems += where + "body not under a heading or indented by one space\n";
    } else {
      m.body[m.headings.back()].push_back(line);
    }
  }
  return m;
}

// One option as a manual's OPTIONS section names it: "-L", "TEXT".
struct OptionUse {
  std::string option, value;
};

// The options of an OPTIONS section: every line whose first non-blank is a
// '-' lists alternatives separated by ", " ("-f, --force", "-L, --label
// TEXT", "-o ro, -o rw"), each an option and perhaps a value, up to a double
// space (a description on the same line). A value named by the last
// alternative goes with those that name none.
std::vector<OptionUse> ManualOptions(const std::vector<std::string>& lines) {
  std::vector<OptionUse> uses;
  for (const std::string& line : lines) {
    const size_t b = line.find_first_not_of(' ');
    if (b == std::string::npos || line[b] != '-') continue;
    const size_t gap = line.find("  ", b);
    const std::string column = line.substr(b, gap == std::string::npos ? std::string::npos : gap - b);
    const size_t first = uses.size();
    for (size_t pos = 0; pos < column.size();) {
      const size_t comma = column.find(", ", pos);
      std::string alt = column.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      pos = comma == std::string::npos ? column.size() : comma + 2;
      while (!alt.empty() && (alt.back() == ',' || alt.back() == ' ')) alt.pop_back();
      if (alt.empty() || alt[0] != '-') continue;
      OptionUse u;
      const size_t space = alt.find(' ');
      u.option = alt.substr(0, space);
      if (space != std::string::npos) u.value = alt.substr(space + 1);
      if (size_t eq = u.option.find('='); eq != std::string::npos && u.option.rfind("--", 0) == 0) {
        u.value = u.option.substr(eq + 1);
        u.option.resize(eq);
      }
      uses.push_back(u);
    }
    // "-L, --label TEXT": the value named last goes with every alternative.
    for (size_t i = first; i < uses.size(); i++)
      if (uses[i].value.empty()) uses[i].value = uses.back().value;
  }
  return uses;
}

// "TEXT", "A..B", "UID:GID": a placeholder, not a value the parser knows.
bool IsMetavar(const std::string& value) {
  return std::none_of(value.begin(), value.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// The parser of `baton SUB` accepts the option (and a value the manual
// names, like "-o allow_other"). Those parsers report an option they do not
// know as "unknown option X" (tools/args.cc) or "unknown flag 'X'" and
// "unknown mount option" (fuse/mount_options.cc).
void CheckOptionAccepted(const std::string& sub, const OptionUse& u) {
  const std::string args = Quote(u.option) + (u.value.empty() ? "" : " " + Quote(u.value));
  Run r;
  if (sub == "mount") {
    // mount answers --help before it parses: parse for real, against a mount
    // point that does not exist, so that nothing is mounted.
    r = Baton("mount " + args + " 127.0.0.1:9 /nonexistent/baton-help-test");
    const bool concrete = std::none_of(u.value.begin(), u.value.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    if (u.option != "-h" && u.option != "--help" && concrete)  // parsed, then the mount point was checked
      BOOST_TEST(r.out.find("mount point") != std::string::npos, "mount " + args + ": " + r.out);
  } else {
    r = Baton(sub + " " + args + " --help");
    BOOST_TEST(r.rc == 0, sub + " " + args + " --help: " + r.out);
  }
  BOOST_TEST(r.out.find("unknown option " + u.option) == std::string::npos, sub + " " + args + ": " + r.out);
  BOOST_TEST(r.out.find("unknown flag '" + u.option + "'") == std::string::npos, sub + " " + args + ": " + r.out);
  if (!u.value.empty() && !IsMetavar(u.value))
    BOOST_TEST(r.out.find("unknown") == std::string::npos, sub + " " + args + ": " + r.out);
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

// Every subcommand's --help is a manual in man(1) form, on stdout, exit 0:
// the seven sections in order, no line past 80 columns, and every option it
// names is one the command's parser accepts. A usage error is short: a
// usage line and where the manual is, on stderr, with the usage exit code.
BOOST_AUTO_TEST_CASE(every_subcommand_has_man_page_help) {
  // Each subcommand with its exit status for a usage error.
  const std::vector<std::pair<std::string, int>> subs = {{"mkfs", 2},  {"fsck", 16},  {"mds", 2},    {"journal", 2},
                                                         {"mount", 1}, {"status", 2}, {"torture", 2}};
  Run top = Shell(BatonBin() + " --help 2>/dev/null");
  BOOST_TEST(top.rc == 0);
  Manual tm = ParseManual(top.out);
  BOOST_TEST(tm.headings == kManSections, top.out);
  BOOST_TEST(tm.problems.empty(), tm.problems);
  Run e = Shell(BatonBin() + " no-such-command 2>&1 >/dev/null");
  BOOST_TEST(e.rc == 2);
  BOOST_TEST(e.out.find("try 'baton --help'") != std::string::npos, e.out);
  for (const auto& [sub, usage_rc] : subs) {
    BOOST_TEST_CONTEXT("baton " << sub) {
      BOOST_TEST(top.out.find("\n  " + sub + " ") != std::string::npos, "baton --help does not list " + sub);
      Run r = Shell(BatonBin() + " " + sub + " --help 2>/dev/null");
      BOOST_TEST(r.rc == 0);
      Manual m = ParseManual(r.out);
      BOOST_TEST(m.headings == kManSections, r.out);
      BOOST_TEST(m.problems.empty(), m.problems);
      std::vector<OptionUse> options = ManualOptions(m.body["OPTIONS"]);
      BOOST_TEST(std::any_of(options.begin(), options.end(), [](const OptionUse& u) { return u.option == "--help"; }),
                 "OPTIONS does not name --help");
      for (const OptionUse& u : options) CheckOptionAccepted(sub, u);
      e = Shell(BatonBin() + " " + sub + " --no-such-option 2>&1 >/dev/null");
      BOOST_TEST(e.rc == usage_rc, e.out);
      BOOST_TEST(e.out.find("usage: ") != std::string::npos, e.out);
      BOOST_TEST(e.out.find("try 'baton " + sub + " --help'") != std::string::npos, e.out);
      BOOST_TEST(e.out.find("\nOPTIONS\n") == std::string::npos, "a usage error prints the whole manual: " + e.out);
    }
  }
}

// The system's own tools find this build's helpers on PATH, as they would
// find /sbin/mkfs.baton and /sbin/fsck.baton once installed: util-linux
// mkfs(8) runs mkfs.baton (after /sbin, /sbin/fs.d, /sbin/fs), fsck(8) runs
// fsck.baton (after /sbin/fs.d, /sbin/fs, /etc/fs, /etc). fsck(8) passes
// its -a, -p, -n, -y on; on a clean volume each must exit 0.
BOOST_AUTO_TEST_CASE(mkfs_t_baton_through_system_mkfs) {
  if (Shell("command -v mkfs && command -v fsck").rc != 0) {
    BOOST_TEST_MESSAGE("skipped: no mkfs(8) or fsck(8) (util-linux)");
    return;
  }
  TempDir t;
  const std::string vol = t.path() + "/vol";
  BOOST_REQUIRE(::mkdir(vol.c_str(), 0755) == 0);  // empty, as a device for mkfs
  const std::string path = "PATH=" + Quote(ToolsDir()) + ":\"$PATH\" ";
  Run r = Shell(path + "mkfs -t baton -L via-mkfs " + Quote(vol) + " 2>&1");
  BOOST_TEST(r.rc == 0, r.out);
  BOOST_TEST(r.out.find("created BatonFS volume " + vol) != std::string::npos, r.out);
  BOOST_TEST(r.out.find("via-mkfs") != std::string::npos, r.out);  // mkfs(8) passed -L on
  r = Baton("fsck " + vol);
  BOOST_TEST(r.rc == 0, r.out);
  for (const std::string flags : {"-n", "", "-a", "-p", "-y"}) {
    BOOST_TEST_CONTEXT("fsck -t baton " << flags) {
      // -V: fsck(8) prints the command line it runs.
      r = Shell(path + "fsck -V -t baton " + flags + " " + Quote(vol) + " 2>&1");
      BOOST_TEST(r.rc == 0, r.out);
      BOOST_TEST(r.out.find("[" + ToolsDir() + "/fsck.baton ") != std::string::npos, r.out);
      BOOST_TEST(r.out.find("clean") != std::string::npos, r.out);
    }
  }
}
