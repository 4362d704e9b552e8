#define BOOST_TEST_MODULE volume_test
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/env.h"
#include "fs/meta_store.h"
#include "volume/superblock_format.h"
#include "volume/volume.h"

namespace fsys = std::filesystem;
using namespace baton;
using namespace baton::volume;

namespace {
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/baton-vol-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fsys::remove_all(path); }
};
MkfsOptions SmallOpts() {
  MkfsOptions o;
  o.meta_map_bytes = 1ull << 30;
  o.journal_segment_bytes = 1ull << 20;
  return o;
}
}  // namespace

BOOST_AUTO_TEST_CASE(mkfs_creates_a_volume_that_opens) {
  TempDir t;
  const std::string v = t.path + "/vol";
  MkfsOptions o = SmallOpts();
  o.label = "data";
  auto sb = Volume::Create(Env::Default(), v, o);
  BOOST_REQUIRE_MESSAGE(sb.ok(), sb.status().ToString());
  BOOST_TEST(sb->epoch == 1u);
  BOOST_TEST(fsys::exists(v + "/superblock"));
  BOOST_TEST(fsys::exists(v + "/journal"));
  BOOST_TEST(fsys::exists(v + "/meta"));
  auto vol = Volume::Open(Env::Default(), v);
  BOOST_REQUIRE_MESSAGE(vol.ok(), vol.status().ToString());
  BOOST_TEST(((*vol)->superblock().volume_id == sb->volume_id));
  BOOST_TEST((*vol)->superblock().label == "data");
  // The metadata store holds the root directory and nothing applied.
  auto store = fs::MetaStore::Open((*vol)->meta_dir(), (*vol)->store_options(/*read_only=*/true));
  BOOST_REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  auto st = (*store)->ReadState();
  BOOST_REQUIRE(st.ok());
  BOOST_TEST(st->applied_lsn == 0u);
  BOOST_TEST(st->inode_count == 1u);
}

BOOST_AUTO_TEST_CASE(mkfs_refuses_non_empty_directory_and_existing_volume) {
  TempDir t;
  const std::string v = t.path + "/vol";
  fsys::create_directories(v);
  std::ofstream(v + "/precious") << "data";
  auto sb = Volume::Create(Env::Default(), v, SmallOpts());
  BOOST_TEST(!sb.ok());
  BOOST_TEST(sb.status().message().find("not empty") != std::string::npos);
  BOOST_TEST(fsys::exists(v + "/precious"));

  MkfsOptions o = SmallOpts();
  o.force = true;
  BOOST_REQUIRE(Volume::Create(Env::Default(), v, o).ok());
  BOOST_TEST(!fsys::exists(v + "/precious"));
  auto again = Volume::Create(Env::Default(), v, SmallOpts());
  BOOST_TEST(!again.ok());
  BOOST_TEST(again.status().message().find("already holds a BatonFS volume") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(mkfs_validates_options_and_keeps_a_given_uuid) {
  TempDir t;
  MkfsOptions o = SmallOpts();
  o.chunk_size_bytes = 5000;
  BOOST_TEST(!Volume::Create(Env::Default(), t.path + "/a", o).ok());
  o = SmallOpts();
  o.label = std::string(64, 'x');
  BOOST_TEST(!Volume::Create(Env::Default(), t.path + "/b", o).ok());
  o = SmallOpts();
  BOOST_REQUIRE(ParseVolumeId("0123456789abcdef0123456789abcdef", &o.uuid));
  o.has_uuid = true;
  auto sb = Volume::Create(Env::Default(), t.path + "/c", o);
  BOOST_REQUIRE(sb.ok());
  BOOST_TEST(FormatVolumeId(sb->volume_id) == "01234567-89ab-cdef-0123-456789abcdef");
}

BOOST_AUTO_TEST_CASE(open_reports_missing_and_damaged_volumes) {
  TempDir t;
  auto v = Volume::Open(Env::Default(), t.path + "/nope");
  BOOST_TEST(v.status().IsNotFound());
  BOOST_TEST(v.status().message().find(t.path + "/nope") != std::string::npos);
  const std::string vp = t.path + "/vol";
  BOOST_REQUIRE(Volume::Create(Env::Default(), vp, SmallOpts()).ok());
  {
    std::fstream f(vp + "/superblock", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f.write("XXXX", 4);
    f.seekp(kSuperblockSlotBytes);
    f.write("XXXX", 4);
  }
  v = Volume::Open(Env::Default(), vp);
  BOOST_TEST(v.status().IsCorruption());
  BOOST_TEST(v.status().message().find(vp) != std::string::npos);
  BOOST_TEST(v.status().message().find("magic") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(writer_lock_is_exclusive_and_names_the_holder) {
  TempDir t;
  const std::string vp = t.path + "/vol";
  BOOST_REQUIRE(Volume::Create(Env::Default(), vp, SmallOpts()).ok());
  auto a = Volume::Open(Env::Default(), vp);
  auto b = Volume::Open(Env::Default(), vp);
  BOOST_REQUIRE(a.ok() && b.ok());
  BOOST_REQUIRE((*a)->TryLockWriter("pid=1 listen=127.0.0.1:1").ok());
  Status st = (*b)->TryLockWriter("pid=2");
  BOOST_TEST(st.IsBusy());
  BOOST_TEST(st.message().find("already served by another MDS") != std::string::npos);
  BOOST_TEST(st.message().find("pid=1 listen=127.0.0.1:1") != std::string::npos);
  a->reset();  // closing releases the lock
  BOOST_TEST((*b)->TryLockWriter("pid=2").ok());
}

BOOST_AUTO_TEST_CASE(epoch_raise_is_durable_and_survives_a_torn_write) {
  TempDir t;
  const std::string vp = t.path + "/vol";
  BOOST_REQUIRE(Volume::Create(Env::Default(), vp, SmallOpts()).ok());
  {
    auto v = Volume::Open(Env::Default(), vp);
    BOOST_REQUIRE(v.ok());
    BOOST_REQUIRE((*v)->TryLockWriter("t").ok());
    BOOST_REQUIRE((*v)->SetEpoch(2).ok());
    BOOST_REQUIRE((*v)->SetEpoch(3).ok());
    BOOST_TEST(!(*v)->SetEpoch(3).ok());
  }
  auto v = Volume::Open(Env::Default(), vp);
  BOOST_REQUIRE(v.ok());
  BOOST_TEST((*v)->superblock().epoch == 3u);
  const uint64_t gen = (*v)->superblock().generation;
  // Tear the slot holding epoch 3: the volume opens with epoch 2.
  {
    std::fstream f(vp + "/superblock", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>((gen % 2) * kSuperblockSlotBytes + 40));
    f.write("\0\0\0\0\0\0\0\0\0\0\0\0", 12);
  }
  v = Volume::Open(Env::Default(), vp);
  BOOST_REQUIRE(v.ok());
  BOOST_TEST((*v)->superblock().epoch == 2u);
}

// DESIGN invariant 6: the metadata store is bound to its volume. A meta/
// directory moved under another volume's superblock is refused, naming both.
BOOST_AUTO_TEST_CASE(metadata_store_of_another_volume_is_refused) {
  TempDir t;
  const std::string a = t.path + "/a", b = t.path + "/b";
  BOOST_REQUIRE(Volume::Create(Env::Default(), a, SmallOpts()).ok());
  BOOST_REQUIRE(Volume::Create(Env::Default(), b, SmallOpts()).ok());
  fsys::remove_all(b + "/meta");
  fsys::copy(a + "/meta", b + "/meta", fsys::copy_options::recursive);
  auto vb = Volume::Open(Env::Default(), b);
  BOOST_REQUIRE(vb.ok());
  auto store = fs::MetaStore::Open((*vb)->meta_dir(), (*vb)->store_options());
  BOOST_TEST(store.status().IsCorruption());
  BOOST_TEST(store.status().message().find("belongs to volume") != std::string::npos, store.status().ToString());
  auto va = Volume::Open(Env::Default(), a);
  BOOST_REQUIRE(va.ok());
  BOOST_TEST(fs::MetaStore::Open((*va)->meta_dir(), (*va)->store_options()).ok());
}
