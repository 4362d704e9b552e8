// The power-loss simulator's models (torture/crash_recorder.h): what each
// keeps, loses, reorders and tears.
#define BOOST_TEST_MODULE crash_state_test
#include <boost/test/unit_test.hpp>

#include <random>

#include "torture/crash_recorder.h"

using namespace baton::torture;

namespace {

IoEvent Ev(IoKind k, std::string path, uint64_t off = 0, std::string data = "", std::string path2 = "") {
  IoEvent e;
  e.kind = k;
  e.path = std::move(path);
  e.path2 = std::move(path2);
  e.offset = off;
  e.data = std::move(data);
  return e;
}

}  // namespace

BOOST_AUTO_TEST_CASE(synced_bytes_survive_every_model_and_unsynced_ones_may_not) {
  FileImage base{{"j/a", "old!"}};
  std::vector<IoEvent> log{Ev(IoKind::kWrite, "j/a", 0, "NEW1"), Ev(IoKind::kFileSync, "j/a"),
                           Ev(IoKind::kWrite, "j/a", 4, "more")};
  CrashPoint cp(base, log, log.size());
  BOOST_TEST(cp.unsynced_count() == 1u);
  BOOST_TEST(cp.Durable().at("j/a") == "NEW1");
  BOOST_TEST(cp.Everything().at("j/a") == "NEW1more");
  std::mt19937_64 rng(7);
  for (CrashModel m : {CrashModel::kPrefix, CrashModel::kRealistic, CrashModel::kAdversarial}) {
    bool lost = false, kept = false;
    for (int i = 0; i < 200; i++) {
      std::string a = cp.Sample(m, rng).at("j/a");
      BOOST_TEST(a.substr(0, 4) == "NEW1");  // synced: always there
      lost |= a == "NEW1";
      kept |= a == "NEW1more";
    }
    BOOST_TEST(lost, CrashModelName(m));
    BOOST_TEST(kept, CrashModelName(m));
  }
}

BOOST_AUTO_TEST_CASE(a_crash_point_sees_only_the_events_before_it) {
  std::vector<IoEvent> log{Ev(IoKind::kWrite, "f", 0, "abc"), Ev(IoKind::kFileSync, "f"), Ev(IoKind::kWrite, "f", 0, "x")};
  BOOST_TEST(CrashPoint({{"f", ""}}, log, 0).Everything().at("f") == "");
  BOOST_TEST(CrashPoint({{"f", ""}}, log, 1).Durable().at("f") == "");
  BOOST_TEST(CrashPoint({{"f", ""}}, log, 2).Durable().at("f") == "abc");
  BOOST_TEST(CrashPoint({{"f", ""}}, log, 3).Everything().at("f") == "xbc");
}

BOOST_AUTO_TEST_CASE(a_new_file_needs_a_directory_sync_not_only_its_own_fsync) {
  std::vector<IoEvent> log{Ev(IoKind::kCreate, "j/seg2"), Ev(IoKind::kWrite, "j/seg2", 0, "hdr"),
                           Ev(IoKind::kFileSync, "j/seg2")};
  CrashPoint before(FileImage{}, log, log.size());
  BOOST_TEST(before.Durable().count("j/seg2") == 0u);  // fsync of the file alone: its name may vanish
  std::mt19937_64 rng(1);
  bool vanished = false;
  for (int i = 0; i < 100; i++) vanished |= before.Sample(CrashModel::kAdversarial, rng).count("j/seg2") == 0;
  BOOST_TEST(vanished);
  // ext4 (realistic): the fsync commits the creation with it.
  for (int i = 0; i < 100; i++) BOOST_TEST(before.Sample(CrashModel::kRealistic, rng).count("j/seg2") == 1u);
  log.push_back(Ev(IoKind::kDirSync, "j"));
  CrashPoint after(FileImage{}, log, log.size());
  BOOST_TEST(after.Durable().at("j/seg2") == "hdr");
  for (int i = 0; i < 100; i++) BOOST_TEST(after.Sample(CrashModel::kAdversarial, rng).at("j/seg2") == "hdr");
}

BOOST_AUTO_TEST_CASE(rename_and_remove_wait_for_the_directory_sync) {
  FileImage base{{"sb.tmp", "new"}, {"sb", "old"}, {"j/seg1", "s1"}};
  std::vector<IoEvent> log{Ev(IoKind::kRename, "sb.tmp", 0, "", "sb"), Ev(IoKind::kRemove, "j/seg1")};
  CrashPoint cp(base, log, log.size());
  BOOST_TEST(cp.Durable().at("sb") == "old");
  BOOST_TEST(cp.Durable().count("j/seg1") == 1u);
  BOOST_TEST(cp.Everything().at("sb") == "new");
  BOOST_TEST(cp.Everything().count("sb.tmp") == 0u);
  BOOST_TEST(cp.Everything().count("j/seg1") == 0u);
  BOOST_TEST(cp.Prefix(1).at("sb") == "new");
  BOOST_TEST(cp.Prefix(1).count("j/seg1") == 1u);
  log.push_back(Ev(IoKind::kDirSync, ""));
  CrashPoint synced(base, log, log.size());
  BOOST_TEST(synced.Durable().at("sb") == "new");
  BOOST_TEST(synced.Durable().count("j/seg1") == 1u);  // its directory was not synced
}

BOOST_AUTO_TEST_CASE(prefix_model_keeps_issue_order) {
  std::vector<IoEvent> log{Ev(IoKind::kWrite, "f", 0, "1"), Ev(IoKind::kWrite, "f", 1, "2"), Ev(IoKind::kWrite, "f", 2, "3")};
  CrashPoint cp({{"f", ""}}, log, log.size());
  BOOST_TEST(cp.unsynced_count() == 3u);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 100; i++) {
    std::string f = cp.Sample(CrashModel::kPrefix, rng).at("f");
    BOOST_TEST((f == "" || f == "1" || f == "12" || f == "123"), f);
  }
}

BOOST_AUTO_TEST_CASE(adversarial_model_reorders_and_tears_at_sectors) {
  std::string big(2048, 'A');
  std::vector<IoEvent> log{Ev(IoKind::kWrite, "f", 0, "1"), Ev(IoKind::kWrite, "f", 1, "2"),
                           Ev(IoKind::kWrite, "g", 0, big)};
  CrashPoint cp({{"f", ""}, {"g", std::string(2048, 'o')}}, log, log.size());
  std::mt19937_64 rng(5);
  bool reordered = false, torn = false;
  for (int i = 0; i < 400; i++) {
    FileImage img = cp.Sample(CrashModel::kAdversarial, rng);
    reordered |= img.at("f") == std::string("\0" "2", 2);  // the second write without the first
    const std::string& g = img.at("g");
    BOOST_TEST(g.size() == 2048u);
    for (size_t s = 0; s < 4; s++) {
      const std::string sec = g.substr(s * 512, 512);
      bool uniform = sec.find_first_not_of(sec[0]) == std::string::npos;
      if (sec != std::string(512, 'A')) torn = true;
      // Each sector is written, old, zeros or garbage (random bytes): never
      // part written and part old.
      if (uniform) BOOST_TEST((sec[0] == 'A' || sec[0] == 'o' || sec[0] == '\0'));
      else BOOST_TEST(!(sec.find('A') == 0 && sec.find('o') != std::string::npos && sec.find_first_not_of("Ao") == std::string::npos));
    }
  }
  BOOST_TEST(reordered);
  BOOST_TEST(torn);
}

BOOST_AUTO_TEST_CASE(realistic_model_tears_only_the_last_kept_write_of_a_file) {
  std::vector<IoEvent> log{Ev(IoKind::kWrite, "f", 0, std::string(1024, 'x')),
                           Ev(IoKind::kWrite, "f", 1024, std::string(1024, 'y'))};
  CrashPoint cp({{"f", ""}}, log, log.size());
  std::mt19937_64 rng(9);
  for (int i = 0; i < 300; i++) {
    std::string f = cp.Sample(CrashModel::kRealistic, rng).at("f");
    // The first write is whole whenever anything of the second is there.
    if (f.size() > 1024 && f.find('y') != std::string::npos) BOOST_TEST(f.substr(0, 1024) == std::string(1024, 'x'));
    BOOST_TEST(f.find_first_not_of(std::string("xy\0", 3)) == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(model_names_parse) {
  CrashModel m;
  BOOST_TEST(ParseCrashModel("adversarial", &m));
  BOOST_TEST((m == CrashModel::kAdversarial));
  BOOST_TEST(!ParseCrashModel("fast", &m));
}
