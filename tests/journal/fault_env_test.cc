#define BOOST_TEST_MODULE fault_env
#include <boost/test/unit_test.hpp>

#include "base/fault_env.h"
#include "tests/journal/journal_test_util.h"

using namespace baton;
using namespace baton::journal::testing;

namespace {

std::unique_ptr<File> Open(Env* env, const std::string& path, bool create = true) {
  auto f = env->OpenFile(path, {.create = create});
  BOOST_REQUIRE(f.ok());
  return std::move(f).value();
}

}  // namespace

BOOST_AUTO_TEST_CASE(drop_unsynced_restores_synced_state) {
  TempDir tmp;
  FaultInjectionEnv env(Env::Default());
  std::string p = tmp.Sub("a");
  auto f = Open(&env, p);
  BOOST_REQUIRE(f->Append("synced-part").ok());
  BOOST_REQUIRE(f->DataSync().ok());
  BOOST_REQUIRE(env.SyncDir(tmp.path()).ok());
  BOOST_REQUIRE(f->PWrite(0, "OVERWRITE").ok());
  BOOST_REQUIRE(f->Append(std::string(3000, 'x')).ok());
  BOOST_REQUIRE(f->Truncate(5).ok());
  BOOST_REQUIRE(f->Append("tail").ok());
  BOOST_CHECK_EQUAL(env.unsynced_write_count(), 4u);
  BOOST_REQUIRE(f->Close().ok());
  BOOST_REQUIRE(env.SimulateCrash(CrashMode::kDropUnsynced, 1).ok());
  BOOST_CHECK_EQUAL(ReadBytes(p), "synced-part");
}

BOOST_AUTO_TEST_CASE(keep_prefix_gives_some_prefix_of_writes) {
  uint64_t seed = TestSeed("keep_prefix");
  for (uint64_t s = seed; s < seed + 30; s++) {
    TempDir tmp;
    FaultInjectionEnv env(Env::Default());
    std::string p = tmp.Sub("a");
    auto f = Open(&env, p);
    BOOST_REQUIRE(f->Append("base").ok());
    BOOST_REQUIRE(f->Sync().ok());
    std::vector<std::string> states = {"base"};
    std::string cur = "base";
    for (int i = 0; i < 6; i++) {
      std::string chunk(100 + i, static_cast<char>('a' + i));
      BOOST_REQUIRE(f->Append(chunk).ok());
      cur += chunk;
      states.push_back(cur);
    }
    BOOST_REQUIRE(f->Close().ok());
    BOOST_REQUIRE(env.SimulateCrash(CrashMode::kKeepPrefix, s).ok());
    std::string got = ReadBytes(p);
    BOOST_CHECK_MESSAGE(std::find(states.begin(), states.end(), got) != states.end(), "seed " << s);
  }
}

BOOST_AUTO_TEST_CASE(tear_at_512_byte_boundary) {
  for (CrashMode mode : {CrashMode::kTearLastZeros, CrashMode::kTearLastGarbage}) {
    for (uint64_t s = 0; s < 20; s++) {
      TempDir tmp;
      FaultInjectionEnv env(Env::Default());
      std::string p = tmp.Sub("a");
      auto f = Open(&env, p);
      BOOST_REQUIRE(f->Append(std::string(300, 's')).ok());
      BOOST_REQUIRE(f->Sync().ok());
      std::string w(4000, 'w');
      BOOST_REQUIRE(f->Append(w).ok());  // the only unsynced write: it is the one torn
      BOOST_REQUIRE(f->Close().ok());
      BOOST_REQUIRE(env.SimulateCrash(mode, s).ok());
      std::string got = ReadBytes(p);
      BOOST_REQUIRE_EQUAL(got.size(), 4300u);
      BOOST_CHECK_EQUAL(got.substr(0, 300), std::string(300, 's'));
      size_t first_bad = got.find_first_not_of('w', 300);
      BOOST_REQUIRE(first_bad != std::string::npos);  // something was torn
      BOOST_CHECK(first_bad == 300 || first_bad % 512 == 0);
      if (mode == CrashMode::kTearLastZeros) {
        BOOST_CHECK_EQUAL(got.substr(first_bad), std::string(4300 - first_bad, '\0'));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(files_created_since_dir_sync_disappear) {
  TempDir tmp;
  FaultInjectionEnv env(Env::Default());
  auto a = Open(&env, tmp.Sub("durable"));
  BOOST_REQUIRE(a->Append("x").ok());
  BOOST_REQUIRE(a->Sync().ok());
  BOOST_REQUIRE(env.SyncDir(tmp.path()).ok());
  auto c = Open(&env, tmp.Sub("tmpfile"));
  BOOST_REQUIRE(c->Append("z").ok());
  BOOST_REQUIRE(c->Sync().ok());
  BOOST_REQUIRE(env.SyncDir(tmp.path()).ok());
  auto b = Open(&env, tmp.Sub("fresh"));
  BOOST_REQUIRE(b->Append("y").ok());
  BOOST_REQUIRE(b->Sync().ok());  // data synced, directory entry not
  BOOST_REQUIRE(env.Rename(tmp.Sub("tmpfile"), tmp.Sub("renamed")).ok());
  a.reset();
  b.reset();
  c.reset();
  BOOST_REQUIRE(env.SimulateCrash(CrashMode::kRemoveUnsyncedFiles, 3).ok());
  BOOST_CHECK(env.FileExists(tmp.Sub("durable")));
  BOOST_CHECK(!env.FileExists(tmp.Sub("fresh")));
  BOOST_CHECK(!env.FileExists(tmp.Sub("renamed")));
  BOOST_CHECK(env.FileExists(tmp.Sub("tmpfile")));
  BOOST_CHECK_EQUAL(ReadBytes(tmp.Sub("tmpfile")), "z");
}

BOOST_AUTO_TEST_CASE(injected_errors_are_one_shot) {
  TempDir tmp;
  FaultInjectionEnv env(Env::Default());
  auto f = Open(&env, tmp.Sub("a"));
  env.FailNextWrite(Status::NoSpace("full"));
  Status w = f->Append("data");
  BOOST_CHECK(w.code() == Code::kNoSpace);
  BOOST_CHECK_EQUAL(ReadBytes(tmp.Sub("a")), "");  // the file was not touched
  BOOST_CHECK(f->Append("data").ok());
  env.FailNextSync(Status::IOError("eio", 5));
  BOOST_CHECK(f->DataSync().code() == Code::kIOError);
  BOOST_CHECK_EQUAL(env.unsynced_write_count(), 1u);  // failed sync made nothing durable
  BOOST_CHECK(f->DataSync().ok());
  BOOST_CHECK_EQUAL(env.unsynced_write_count(), 0u);
  BOOST_CHECK_EQUAL(env.data_sync_calls(), 1u);
}
