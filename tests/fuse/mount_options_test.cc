// `baton mount` argument and -o parsing (fuse/mount_options.cc): what mount(8)
// and fstab pass must be accepted, everything else refused by name.
#define BOOST_TEST_MODULE mount_options_test
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "fuse/mount_options.h"

using baton::fuse::MountConfig;
using baton::fuse::ParseMountArgs;

namespace {

baton::StatusOr<MountConfig> Parse(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return ParseMountArgs(static_cast<int>(argv.size()), argv.data(), 0);
}

}  // namespace

BOOST_AUTO_TEST_CASE(defaults_and_addresses) {
  auto c = Parse({"127.0.0.1:7070,127.0.0.2:7071", "/mnt/x"});
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(c->addresses == (std::vector<std::string>{"127.0.0.1:7070", "127.0.0.2:7071"}),
             boost::test_tools::per_element());
  BOOST_TEST(c->spec == "127.0.0.1:7070,127.0.0.2:7071");
  BOOST_TEST(c->mountpoint == "/mnt/x");
  BOOST_TEST(!c->foreground);
  BOOST_TEST(!c->allow_other);
  BOOST_TEST(c->attr_timeout_s == 1.0);
  BOOST_TEST(c->entry_timeout_s == 1.0);
  BOOST_TEST(c->negative_timeout_s == 0.0);
  BOOST_TEST(c->connect_timeout_s == 10.0);
  BOOST_TEST(c->failover_timeout_s < 0);
  BOOST_TEST(c->kernel_flags.empty());
}

BOOST_AUTO_TEST_CASE(options_as_mount8_passes_them) {
  // mount(8): mount.baton SPEC DIR -s -n -o rw,... -t baton
  auto c = Parse({"127.0.0.1:7070", "/mnt/x", "-s", "-n", "-o",
                  "rw,allow_other,_netdev,nofail,noauto,x-systemd.automount,defaults,attr_timeout=0.5", "-t",
                  "baton"});
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(c->allow_other);
  BOOST_TEST(!c->read_only);
  BOOST_TEST(c->attr_timeout_s == 0.5);
  auto d = Parse({"-oro,entry_timeout=0,negative_timeout=2,connect_timeout=3,failover_timeout=7,max_threads=4,suid,dev,log=/var/log/b.log",
                  "127.0.0.1:1", "/m", "-f"});
  BOOST_REQUIRE(d.ok());
  BOOST_TEST(d->read_only);
  BOOST_TEST(d->foreground);
  BOOST_TEST(d->entry_timeout_s == 0.0);
  BOOST_TEST(d->negative_timeout_s == 2.0);
  BOOST_TEST(d->connect_timeout_s == 3.0);
  BOOST_TEST(d->failover_timeout_s == 7.0);
  BOOST_TEST(d->max_threads == 4u);
  BOOST_TEST(d->log_path == "/var/log/b.log");
  BOOST_TEST(d->kernel_flags == (std::vector<std::string>{"suid", "dev"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused_by_name) {
  struct Case {
    std::vector<std::string> args;
    std::string names;
  };
  const Case cases[] = {
      {{"127.0.0.1:1", "/m", "-o", "bogus"}, "bogus"},
      {{"127.0.0.1:1", "/m", "-o", "attr_timeout=abc"}, "attr_timeout"},
      {{"127.0.0.1:1", "/m", "-o", "attr_timeout=-1"}, "attr_timeout"},
      {{"127.0.0.1:1", "/m", "-o", "max_threads=0"}, "max_threads"},
      {{"127.0.0.1:1", "/m", "-o", "cache=yes"}, "cache=yes"},
      {{"127.0.0.1:1", "/m", "-o", "log=relative.log"}, "log="},
      {{"127.0.0.1:1", "/m", "-x"}, "-x"},
      {{"127.0.0.1:1", "/m", "-o"}, "-o"},
      {{"127.0.0.1", "/m"}, "ADDR:PORT"},
      {{"127.0.0.1:1,", "/m"}, "ADDR:PORT"},
      {{":7070", "/m"}, "ADDR:PORT"},
      {{"127.0.0.1:1"}, "MOUNTPOINT"},
      {{"127.0.0.1:1", "/m", "/extra"}, "MOUNTPOINT"},
  };
  for (const Case& k : cases) {
    auto c = Parse(k.args);
    BOOST_TEST_CONTEXT(k.args.back()) {
      BOOST_TEST(!c.ok());
      if (!c.ok()) BOOST_TEST(c.status().message().find(k.names) != std::string::npos, c.status().message());
    }
  }
}

BOOST_AUTO_TEST_CASE(dash_f_is_fake_for_mount8_and_foreground_for_baton_mount) {
  std::vector<std::string> args = {"127.0.0.1:1", "/m", "-f"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  auto as_helper = ParseMountArgs(3, argv.data(), 0, /*as_mount_helper=*/true);
  BOOST_REQUIRE(as_helper.ok());
  BOOST_TEST(as_helper->fake);
  BOOST_TEST(!as_helper->foreground);
  auto as_command = ParseMountArgs(3, argv.data(), 0);
  BOOST_REQUIRE(as_command.ok());
  BOOST_TEST(!as_command->fake);
  BOOST_TEST(as_command->foreground);
}
