# The apps engineer's FUSE tests: real programs, two mounts, MDS crashes,
# and the mount command line. Included by tests/fuse/CMakeLists.txt.
# git, tar, sqlite and cp -a through the mount: a compatibility test, run in
# the normal build only (under ASan+UBSan it took 3 of its 5 minutes' timeout
# in CI; the posix_* tests exercise every op handler under the sanitizers).
if(NOT BATON_SANITIZE)
  baton_add_test(fuse_apps_test SOURCES apps_test.cc LIBS baton_fuse_testutil LABELS fuse TIMEOUT 300)
  add_dependencies(fuse_apps_test baton)
endif()
baton_add_test(fuse_two_mount_test SOURCES two_mount_test.cc LIBS baton_fuse_testutil LABELS fuse TIMEOUT 300)
baton_add_test(fuse_durability_test SOURCES durability_test.cc LIBS baton_fuse_testutil LABELS fuse TIMEOUT 300)
baton_add_test(fuse_mount_cli_test SOURCES mount_cli_test.cc LIBS baton_fuse_testutil LABELS fuse TIMEOUT 300)
foreach(t fuse_two_mount_test fuse_durability_test fuse_mount_cli_test)
  add_dependencies(${t} baton)
endforeach()
