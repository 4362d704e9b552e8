// baton fsck --repair, one corruption per invariant (issue 6 acceptance):
// each case builds a fresh volume through a real FUSE mount, stops the MDS,
// damages the volume in exactly one way, and then requires:
//   * `baton fsck` names the problem and exits 4 (a torn tail: a warning, 0);
//   * `baton fsck --repair` exits 1 (errors corrected);
//   * a second `baton fsck` exits 0 with no warning;
//   * the MDS starts again, the file system mounts, passes a short POSIX
//     check, and the surviving files keep their bytes;
//   * and after that, fsck is still clean (the repair reached every store).
// Plus the refusals: not a volume, a newer format, a served volume, middle
// journal damage without --discard-after-lsn (nothing written in each).
#define BOOST_TEST_MODULE fsck_repair_test
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <thread>
#include <atomic>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "base/checksum.h"
#include "base/coding.h"
#include "fs/lmdb_txn.h"
#include "fs/meta_store_impl.h"
#include "fs/store_ops.h"
#include "tests/fuse/mount_fixture.h"
#include "journal/journal_tail.h"
#include "tools/journal_scanner.h"
#include "volume/superblock_format.h"
#include "volume/volume.h"

using namespace baton;
using namespace baton::testing;
namespace sfs = std::filesystem;

namespace {

std::string Baton() {
  const char* b = getenv("BATON_BIN");
  return b ? b : "baton";
}

using Run = CommandResult;

// Runs `baton ARGS` and returns its exit code and stdout+stderr.
Run RunBaton(const std::string& args) { return RunCommand(Baton() + " " + args + " 2>&1"); }

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f << data;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string Pattern(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i++) s[i] = static_cast<char>(seed + i * 7 % 251);
  return s;
}

// The store of the (only) MDS that served the volume.
std::string MdsStoreDir(const std::string& volume) {
  for (const auto& e : sfs::directory_iterator(volume + "/mds"))
    if (sfs::exists(e.path() / "meta" / "data.mdb")) return (e.path() / "meta").string();
  return "";
}

// Opens a store and runs fn inside one write transaction.
void EditStore(const std::string& volume, const std::string& dir,
               const std::function<void(fs::TxnRef, fs::PersistState&)>& fn) {
  auto vol = volume::Volume::Open(Env::Default(), volume);
  BOOST_REQUIRE(vol.ok());
  auto store = fs::MetaStore::Open(dir, (*vol)->store_options());
  BOOST_REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  fs::LmdbMetaStore& impl = fs::Impl(**store);
  fs::LmdbTxn txn;
  BOOST_REQUIRE(txn.Begin(impl.env(), false).ok());
  fs::TxnRef t{txn.get(), impl.dbis()};
  fs::PersistState st;
  BOOST_REQUIRE(fs::ReadPersistState(txn.get(), impl.dbis(), &st).ok());
  fn(t, st);
  BOOST_REQUIRE(txn.Commit().ok());
}

fs::Ino InoOf(const std::string& path) {
  struct stat st;
  BOOST_REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_ino;
}

// The volume every case starts from, built through FUSE:
//   /d (dir) with file1 (100 KiB), file2 (5 B), sub/ (dir) with deep (3 KiB)
//   /keep (12 KiB) and a hard link /d/link to it
struct Built {
  std::string volume, address;
  fs::Ino d = 0, file1 = 0, file2 = 0, keep = 0, sub = 0;
};

class Fixture {
 public:
  Fixture() : mv_(std::make_unique<MountedVolume>()) {
    BOOST_REQUIRE(mv_->Start());
    const std::string m = mv_->mnt();
    BOOST_REQUIRE(::mkdir((m + "/d").c_str(), 0755) == 0);
    BOOST_REQUIRE(::mkdir((m + "/d/sub").c_str(), 0755) == 0);
    WriteFile(m + "/d/file1", Pattern(100 << 10, 'a'));
    WriteFile(m + "/d/file2", "hello");
    WriteFile(m + "/d/sub/deep", Pattern(3 << 10, 'q'));
    WriteFile(m + "/keep", Pattern(12 << 10, 'k'));
    BOOST_REQUIRE(::link((m + "/keep").c_str(), (m + "/d/link").c_str()) == 0);
    b_.d = InoOf(m + "/d");
    b_.sub = InoOf(m + "/d/sub");
    b_.file1 = InoOf(m + "/d/file1");
    b_.file2 = InoOf(m + "/d/file2");
    b_.keep = InoOf(m + "/keep");
    b_.volume = mv_->volume();
    b_.address = mv_->address();
    BOOST_REQUIRE_EQUAL(mv_->mount().Unmount(), 0);
    BOOST_REQUIRE_EQUAL(mv_->mds().Terminate(), 0);
    BOOST_REQUIRE_EQUAL(RunBaton("fsck " + b_.volume).code, 0);
  }
  const Built& b() const { return b_; }
  std::string store() const { return MdsStoreDir(b_.volume); }

  // fsck names `kind` and exits `check_code`; --repair exits 1; fsck exits 0.
  void CheckRepairCheck(const std::string& kind, int check_code = 4, const std::string& repair_flags = "--repair") {
    Run c = RunBaton("fsck " + b_.volume);
    BOOST_TEST_MESSAGE(c.out);
    BOOST_TEST(c.code == check_code, "fsck exit " << c.code << "\n" << c.out);
    BOOST_TEST(c.out.find(kind) != std::string::npos, "fsck does not name " << kind << ":\n" << c.out);
    Run r = RunBaton("fsck " + repair_flags + " " + b_.volume);
    BOOST_TEST_MESSAGE(r.out);
    BOOST_TEST(r.code == 1, "fsck --repair exit " << r.code << "\n" << r.out);
    Run again = RunBaton("fsck " + b_.volume);
    BOOST_TEST(again.code == 0, "fsck after the repair exits " << again.code << "\n" << again.out);
    BOOST_TEST(again.out.find("WARNING") == std::string::npos, again.out);
  }

  // Starts the MDS, mounts, runs a short POSIX check and `extra` on the
  // mount, unmounts, stops; fsck must still be clean.
  // keep_intact: /keep must still hold its bytes (not after a journal cut).
  void MountAndCheck(const std::function<void(const std::string&)>& extra, bool keep_intact = true) {
    BOOST_REQUIRE_MESSAGE(mv_->mds().Start(), "the MDS does not start after the repair: " + ReadFile(mv_->mds().stderr_path()));
    auto mnt = mv_->AddMount("again");
    BOOST_REQUIRE(mnt->Mount());
    const std::string m = mnt->path();
    if (keep_intact) BOOST_TEST((ReadFile(m + "/keep") == Pattern(12 << 10, 'k')));
    BOOST_REQUIRE(::mkdir((m + "/posix").c_str(), 0700) == 0);
    WriteFile(m + "/posix/a", "abc");
    BOOST_TEST(::rename((m + "/posix/a").c_str(), (m + "/posix/b").c_str()) == 0);
    BOOST_TEST(::link((m + "/posix/b").c_str(), (m + "/posix/c").c_str()) == 0);
    struct stat st;
    BOOST_TEST(::stat((m + "/posix/b").c_str(), &st) == 0);
    BOOST_TEST(st.st_nlink == 2u);
    BOOST_TEST((ReadFile(m + "/posix/c") == "abc"));
    BOOST_TEST(::unlink((m + "/posix/b").c_str()) == 0);
    BOOST_TEST(::unlink((m + "/posix/c").c_str()) == 0);
    BOOST_TEST(::rmdir((m + "/posix").c_str()) == 0);
    extra(m);
    BOOST_TEST(mnt->Unmount() == 0);
    BOOST_TEST(mv_->mds().Terminate() == 0);
    Run after = RunBaton("fsck " + b_.volume);
    BOOST_TEST(after.code == 0, "fsck after the remount exits " << after.code << "\n" << after.out);
  }

 private:
  std::unique_ptr<MountedVolume> mv_;
  Built b_;
};

std::string LastSegment(const std::string& volume) {
  std::vector<std::string> segs;
  for (const auto& e : sfs::directory_iterator(volume + "/journal")) segs.push_back(e.path().string());
  std::sort(segs.begin(), segs.end());
  return segs.empty() ? "" : segs.back();
}

}  // namespace

BOOST_AUTO_TEST_CASE(inode_dropped_under_its_entry) {
  Fixture f;
  EditStore(f.b().volume, f.store(), [&](fs::TxnRef t, fs::PersistState&) {
    BOOST_REQUIRE(fs::DelInode(t, f.b().file2).ok());
  });
  f.CheckRepairCheck("dangling-dentry");
  f.MountAndCheck([&](const std::string& m) {
    BOOST_TEST(::access((m + "/d/file2").c_str(), F_OK) != 0);  // the entry went with its inode
    BOOST_TEST((ReadFile(m + "/d/file1") == Pattern(100 << 10, 'a')));
  });
}

BOOST_AUTO_TEST_CASE(entry_to_a_missing_inode) {
  Fixture f;
  EditStore(f.b().volume, f.store(), [&](fs::TxnRef t, fs::PersistState&) {
    fs::InodeRec root;
    BOOST_REQUIRE(fs::GetInode(t, fs::kRootIno, &root).ok());
    std::string scratch;
    BOOST_REQUIRE(fs::AddDentry(t, &root, "ghost", 987654, S_IFREG).ok());
    BOOST_REQUIRE(fs::PutInode(t, root, &scratch).ok());
  });
  f.CheckRepairCheck("dangling-dentry");
  f.MountAndCheck([&](const std::string& m) { BOOST_TEST(::access((m + "/ghost").c_str(), F_OK) != 0); });
}

BOOST_AUTO_TEST_CASE(wrong_link_count) {
  Fixture f;
  EditStore(f.b().volume, f.store(), [&](fs::TxnRef t, fs::PersistState&) {
    fs::InodeRec r;
    BOOST_REQUIRE(fs::GetInode(t, f.b().keep, &r).ok());
    r.attr.nlink = 7;
    std::string scratch;
    BOOST_REQUIRE(fs::PutInode(t, r, &scratch).ok());
  });
  f.CheckRepairCheck("nlink");
  f.MountAndCheck([&](const std::string& m) {
    struct stat st;
    BOOST_TEST(::stat((m + "/keep").c_str(), &st) == 0);
    BOOST_TEST(st.st_nlink == 2u);
  });
}

BOOST_AUTO_TEST_CASE(detached_directory_goes_to_lost_found) {
  Fixture f;
  EditStore(f.b().volume, f.store(), [&](fs::TxnRef t, fs::PersistState&) {
    fs::DentryVal dv;
    BOOST_REQUIRE(fs::GetDentry(t, fs::kRootIno, "d", &dv).ok());
    BOOST_REQUIRE(fs::DelDentry(t, fs::kRootIno, "d", dv.cookie).ok());
  });
  f.CheckRepairCheck("unreachable");
  const std::string where = "/lost+found/#" + std::to_string(f.b().d);
  f.MountAndCheck([&](const std::string& m) {
    BOOST_TEST((ReadFile(m + where + "/file1") == Pattern(100 << 10, 'a')));
    BOOST_TEST((ReadFile(m + where + "/sub/deep") == Pattern(3 << 10, 'q')));
    BOOST_TEST((ReadFile(m + where + "/link") == Pattern(12 << 10, 'k')));
    struct stat st;
    BOOST_TEST(::stat((m + "/lost+found").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0700u);
    BOOST_TEST(::rename((m + where).c_str(), (m + "/d").c_str()) == 0);
    BOOST_TEST((ReadFile(m + "/d/file2") == "hello"));
  });
}

BOOST_AUTO_TEST_CASE(leaked_data_chunk) {
  Fixture f;
  EditStore(f.b().volume, f.store(), [&](fs::TxnRef t, fs::PersistState&) {
    fs::Key16 k = fs::PairKey(424242, 3);
    BOOST_REQUIRE(fs::PutRaw(t, t.d.chunks, k.val(), std::string(4000, 'x')).ok());
  });
  f.CheckRepairCheck("chunk-owner");
  f.MountAndCheck([](const std::string&) {});
}

BOOST_AUTO_TEST_CASE(flipped_bit_in_a_middle_journal_record) {
  Fixture f;
  const std::string vol = f.b().volume;
  // The record to damage: one in the middle of the journal.
  tools::ScanOptions so;
  so.env = Env::Default();
  so.dir = vol + "/journal";
  std::vector<tools::ScannedRecord> recs;
  tools::ScanSummary sum;
  BOOST_REQUIRE(tools::ScanJournal(so, [&](const tools::ScannedRecord& r) { recs.push_back(r); }, nullptr, &sum).ok());
  BOOST_REQUIRE(recs.size() >= 6);
  const tools::ScannedRecord& victim = recs[recs.size() / 2];
  char path[64];
  snprintf(path, sizeof path, "/journal/seg-%016llx.log", static_cast<unsigned long long>(victim.segment_seq));
  {
    int fd = ::open((vol + path).c_str(), O_RDWR);
    BOOST_REQUIRE(fd >= 0);
    char byte;
    const off_t at = static_cast<off_t>(victim.offset + 40);
    BOOST_REQUIRE(::pread(fd, &byte, 1, at) == 1);
    byte ^= 0x10;
    BOOST_REQUIRE(::pwrite(fd, &byte, 1, at) == 1);
    ::close(fd);
  }
  Run c = RunBaton("fsck " + vol);
  BOOST_TEST(c.code == 4);
  BOOST_TEST(c.out.find("bad-checksum") != std::string::npos, c.out);
  // Refused without --discard-after-lsn, and nothing written.
  const std::string sb_before = ReadFile(vol + "/superblock");
  Run refused = RunBaton("fsck --repair " + vol);
  BOOST_TEST(refused.code == 4, refused.out);
  BOOST_TEST(refused.out.find("--discard-after-lsn " + std::to_string(victim.lsn - 1)) != std::string::npos,
             refused.out);
  BOOST_TEST((ReadFile(vol + "/superblock") == sb_before));
  Run past = RunBaton("fsck --repair --discard-after-lsn " + std::to_string(victim.lsn) + " " + vol);
  BOOST_TEST(past.code == 16, past.out);
  f.CheckRepairCheck("bad-checksum", 4, "--repair --discard-after-lsn " + std::to_string(victim.lsn - 1));
  Run verify = RunBaton("journal verify " + vol);
  BOOST_TEST(verify.code == 0, verify.out);
  // The records before the damage survive: /d was made by the first ones.
  f.MountAndCheck([](const std::string& m) { BOOST_TEST(::access((m + "/d").c_str(), F_OK) == 0); },
                  /*keep_intact=*/false);
}

BOOST_AUTO_TEST_CASE(torn_journal_tail) {
  Fixture f;
  const std::string seg = LastSegment(f.b().volume);
  BOOST_REQUIRE(!seg.empty());
  {
    std::ofstream out(seg, std::ios::binary | std::ios::app);
    out << std::string("BJRC") + std::string(30, '\x5a');  // a record cut short
  }
  f.CheckRepairCheck("torn-tail", 0);
  f.MountAndCheck([](const std::string&) {});
}

BOOST_AUTO_TEST_CASE(damaged_superblock_copy) {
  Fixture f;
  const std::string sb = f.b().volume + "/superblock";
  // Damage the newest copy, the harder case: the volume falls back to the
  // older copy, whose epoch is below the journal's newest; the repair must
  // still raise the epoch above every epoch the journal holds.
  auto vol = volume::Volume::Open(Env::Default(), f.b().volume);
  BOOST_REQUIRE(vol.ok());
  const uint64_t newest = (*vol)->superblock().generation % 2;
  vol->reset();
  {
    int fd = ::open(sb.c_str(), O_RDWR);
    BOOST_REQUIRE(fd >= 0);
    BOOST_REQUIRE(::pwrite(fd, "XXXXXXXX", 8, static_cast<off_t>(newest * volume::kSuperblockSlotBytes + 100)) == 8);
    ::close(fd);
  }
  f.CheckRepairCheck("damaged-copy");
  f.MountAndCheck([](const std::string&) {});
}

// Two MDS stores at the same LSN; the one that sorts first (the active's) is
// damaged on its own: the repair must be planned on the sound one (repairs
// planned on the damaged one would damage the sound one by replay), set the
// damaged one aside, and the MDS must re-seed its store from the sound one.
BOOST_AUTO_TEST_CASE(store_damaged_on_its_own_is_set_aside) {
  Fixture f;
  const std::string damaged = f.store();
  const std::string mds_dir = damaged.substr(0, damaged.rfind('/'));
  const std::string sound = f.b().volume + "/mds/zz-standby/meta";
  sfs::create_directories(sound);
  sfs::copy(damaged, sound, sfs::copy_options::recursive);
  EditStore(f.b().volume, damaged, [&](fs::TxnRef t, fs::PersistState&) {
    BOOST_REQUIRE(fs::DelInode(t, f.b().file2).ok());  // planned on, this would drop /d/file2 everywhere
  });
  f.CheckRepairCheck("dangling-dentry");
  bool aside = false;
  for (const auto& e : sfs::directory_iterator(mds_dir))
    aside = aside || e.path().filename().string().rfind("meta.damaged-", 0) == 0;
  BOOST_TEST(aside);
  BOOST_TEST(!sfs::exists(damaged + "/data.mdb"));
  f.MountAndCheck([](const std::string& m) { BOOST_TEST((ReadFile(m + "/d/file2") == "hello")); });
}

// The mkfs store (the seed of new MDS stores) damaged: replaced by a copy of
// the repaired store, the damaged one kept aside.
BOOST_AUTO_TEST_CASE(damaged_mkfs_store_is_replaced) {
  Fixture f;
  const std::string seed = f.b().volume + "/meta";
  EditStore(f.b().volume, seed, [&](fs::TxnRef t, fs::PersistState&) {
    fs::Key16 k = fs::PairKey(fs::kRootIno, 0);
    BOOST_REQUIRE(fs::PutRaw(t, t.d.chunks, k.val(), "root has no data").ok());
  });
  f.CheckRepairCheck("meta (mkfs seed): chunk 0 of inode 1");
  bool aside = false;
  for (const auto& e : sfs::directory_iterator(f.b().volume))
    aside = aside || e.path().filename().string().rfind("meta.damaged-", 0) == 0;
  BOOST_TEST(aside);
  Run c = RunBaton("fsck " + f.b().volume);
  BOOST_TEST(c.out.find("meta (mkfs seed): 7 inodes") != std::string::npos, c.out);
  f.MountAndCheck([](const std::string&) {});
}

// An orphan (unlinked while open at the last stop) is no error; the MDS
// reclaims it after its grace period, or --reclaim-orphans now.
BOOST_AUTO_TEST_CASE(orphans_are_kept_unless_reclaim_orphans) {
  Fixture f;
  // What an unlink of an open file leaves: no entry, nlink 0, on the orphan
  // list, the entry's charge returned.
  EditStore(f.b().volume, f.store(), [&](fs::TxnRef t, fs::PersistState& st) {
    fs::DentryVal dv;
    BOOST_REQUIRE(fs::GetDentry(t, f.b().d, "file1", &dv).ok());
    BOOST_REQUIRE(fs::DelDentry(t, f.b().d, "file1", dv.cookie).ok());
    st.used_bytes -= fs::DentryCharge(5);
    BOOST_REQUIRE(fs::WritePersistState(t.txn, t.d, st).ok());
    fs::InodeRec r;
    BOOST_REQUIRE(fs::GetInode(t, f.b().file1, &r).ok());
    r.attr.nlink = 0;
    std::string scratch;
    BOOST_REQUIRE(fs::PutInode(t, r, &scratch).ok());
    BOOST_REQUIRE(fs::AddOrphan(t, f.b().file1).ok());
  });
  Run c = RunBaton("fsck " + f.b().volume);
  BOOST_TEST(c.code == 0, c.out);
  BOOST_TEST(c.out.find("holds 1 orphans") != std::string::npos, c.out);
  Run plain = RunBaton("fsck --repair " + f.b().volume);
  BOOST_TEST(plain.code == 0, plain.out);  // nothing to repair: the orphan stays
  BOOST_TEST(RunBaton("fsck " + f.b().volume).out.find("holds 1 orphans") != std::string::npos);
  BOOST_TEST(RunBaton("fsck --reclaim-orphans " + f.b().volume).code == 16);
  Run r = RunBaton("fsck --repair --reclaim-orphans " + f.b().volume);
  BOOST_TEST(r.code == 1, r.out);
  BOOST_TEST(r.out.find("reclaim orphan ino " + std::to_string(f.b().file1)) != std::string::npos, r.out);
  Run after = RunBaton("fsck " + f.b().volume);
  BOOST_TEST(after.code == 0, after.out);
  BOOST_TEST(after.out.find("orphans") == std::string::npos, after.out);
  f.MountAndCheck([](const std::string&) {});
}

// Not fsck: an MDS that takes over a volume whose newest superblock copy is
// damaged reads the older copy's epoch; it must still take an epoch above
// the journal's newest (the last writer's), or it would not fence it.
BOOST_AUTO_TEST_CASE(mds_takes_an_epoch_above_the_journal_with_the_newest_superblock_copy_damaged) {
  Fixture f;
  auto vol = volume::Volume::Open(Env::Default(), f.b().volume);
  BOOST_REQUIRE(vol.ok());
  const uint64_t newest = (*vol)->superblock().generation % 2;
  auto last_writer = journal::NewestSegmentEpoch(Env::Default(), f.b().volume + "/journal", (*vol)->superblock().volume_id);
  BOOST_REQUIRE(last_writer.ok());
  BOOST_REQUIRE_EQUAL(*last_writer, (*vol)->superblock().epoch);
  vol->reset();
  {
    int fd = ::open((f.b().volume + "/superblock").c_str(), O_RDWR);
    BOOST_REQUIRE(fd >= 0);
    BOOST_REQUIRE(::pwrite(fd, "XXXXXXXX", 8, static_cast<off_t>(newest * volume::kSuperblockSlotBytes + 100)) == 8);
    ::close(fd);
  }
  f.MountAndCheck([](const std::string&) {});
  auto after = volume::Volume::Open(Env::Default(), f.b().volume);
  BOOST_REQUIRE(after.ok());
  BOOST_TEST((*after)->superblock().epoch > *last_writer);
}

// A mount stays up across a repair: to it, the repair is an MDS outage. A
// write issued while no MDS runs completes once the MDS is back, after the
// repair, and sees the repaired state.
BOOST_AUTO_TEST_CASE(mounted_client_rides_through_a_repair) {
  MountedVolume mv;
  BOOST_REQUIRE(mv.Start());
  WriteFile(mv.P("a"), "before");
  BOOST_REQUIRE(::link(mv.P("a").c_str(), mv.P("b").c_str()) == 0);
  const fs::Ino a = InoOf(mv.P("a"));
  BOOST_REQUIRE_EQUAL(mv.mds().Terminate(), 0);
  EditStore(mv.volume(), MdsStoreDir(mv.volume()), [&](fs::TxnRef t, fs::PersistState&) {
    fs::InodeRec r;
    BOOST_REQUIRE(fs::GetInode(t, a, &r).ok());
    r.attr.nlink = 5;
    std::string scratch;
    BOOST_REQUIRE(fs::PutInode(t, r, &scratch).ok());
  });
  std::atomic<bool> written{false};
  std::thread writer([&] {
    WriteFile(mv.P("during"), "written while no MDS ran");
    written = true;
  });
  Run r = RunBaton("fsck --repair " + mv.volume());
  BOOST_TEST(r.code == 1, r.out);
  BOOST_TEST(!written.load());
  BOOST_REQUIRE_MESSAGE(mv.mds().Start(), ReadFile(mv.mds().stderr_path()));
  writer.join();
  BOOST_TEST((ReadFile(mv.P("during")) == "written while no MDS ran"));
  struct stat st;
  BOOST_TEST(::stat(mv.P("a").c_str(), &st) == 0);
  BOOST_TEST(st.st_nlink == 2u);
  BOOST_TEST((ReadFile(mv.P("b")) == "before"));
}

BOOST_AUTO_TEST_CASE(refusals_write_nothing) {
  TempDir dir;
  // Not a volume.
  Run notvol = RunBaton("fsck " + dir.path());
  BOOST_TEST(notvol.code == 8, notvol.out);
  BOOST_TEST(notvol.out.find("superblock") != std::string::npos, notvol.out);
  Run missing = RunBaton("fsck --repair " + dir.path() + "/nope");
  BOOST_TEST(missing.code == 8, missing.out);
  // A newer format version: both slots say version+1, with good checksums.
  const std::string vol = MakeVolume(dir);
  std::string bytes = ReadFile(vol + "/superblock");
  for (size_t slot = 0; slot < 2; slot++) {
    char* p = bytes.data() + slot * volume::kSuperblockSlotBytes;
    StoreU32(p + volume::sb_off::kFormatVersion, volume::kSuperblockFormatVersion + 1);
    const uint64_t sum = Checksum64(std::string_view(p, volume::kSuperblockChecksumOffset), volume::kSuperblockSeed ^ slot);
    memcpy(p + volume::kSuperblockChecksumOffset, &sum, 8);
  }
  WriteFile(vol + "/superblock", bytes);
  Run newer = RunBaton("fsck --repair " + vol);
  BOOST_TEST(newer.code == 8, newer.out);
  BOOST_TEST(newer.out.find("format_version") != std::string::npos, newer.out);
  BOOST_TEST((ReadFile(vol + "/superblock") == bytes));
  // Usage.
  BOOST_TEST(RunBaton("fsck -n -y " + vol).code == 16);
  BOOST_TEST(RunBaton("fsck --discard-after-lsn 3 " + vol).code == 16);
}

BOOST_AUTO_TEST_CASE(served_volume_is_checked_but_not_repaired) {
  MountedVolume mv;
  BOOST_REQUIRE(mv.Start());
  WriteFile(mv.P("f"), "data");
  const std::string sb_before = ReadFile(mv.volume() + "/superblock");
  Run check = RunBaton("fsck " + mv.volume());
  BOOST_TEST(check.code == 0, check.out);
  Run repair = RunBaton("fsck --repair " + mv.volume());
  BOOST_TEST(repair.code == 8, repair.out);
  BOOST_TEST(repair.out.find("stop every MDS") != std::string::npos, repair.out);
  BOOST_TEST((ReadFile(mv.volume() + "/superblock") == sb_before));
  BOOST_TEST((ReadFile(mv.P("f")) == "data"));  // the MDS serves on
}

BOOST_AUTO_TEST_CASE(json_summary_and_fsck8_flags) {
  Fixture f;
  EditStore(f.b().volume, f.store(), [&](fs::TxnRef t, fs::PersistState&) {
    fs::InodeRec r;
    BOOST_REQUIRE(fs::GetInode(t, f.b().file1, &r).ok());
    r.attr.nlink = 3;
    std::string scratch;
    BOOST_REQUIRE(fs::PutInode(t, r, &scratch).ok());
  });
  Run j = RunBaton("fsck --json " + f.b().volume);
  BOOST_TEST(j.code == 4);
  BOOST_TEST(j.out.find("\"exit_code\":4") != std::string::npos, j.out);
  BOOST_TEST(j.out.find("\"kind\":\"nlink\"") != std::string::npos, j.out);
  Run n = RunBaton("fsck -n " + f.b().volume);
  BOOST_TEST(n.code == 4);
  Run pr = RunBaton("fsck --progress " + f.b().volume);  // the progress line goes to stderr
  BOOST_TEST(pr.code == 4);
  BOOST_TEST(pr.out.find("entries") != std::string::npos, pr.out);
  BOOST_TEST(pr.out.find("100.0%") != std::string::npos, pr.out);
  BOOST_TEST(pr.out.find("records/s") != std::string::npos, pr.out);
  Run p = RunBaton("fsck -p --json " + f.b().volume);  // fsck(8) preen: repairs
  BOOST_TEST(p.code == 1, p.out);
  BOOST_TEST(p.out.find("\"errors_left\":[]") != std::string::npos, p.out);
  BOOST_TEST(p.out.find("set-nlink") != std::string::npos, p.out);
  Run y = RunBaton("fsck -y " + f.b().volume);
  BOOST_TEST(y.code == 0, y.out);
}
