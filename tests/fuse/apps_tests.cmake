# The apps engineer's FUSE tests: real programs, two mounts, MDS crashes,
# and the mount command line. Included by tests/fuse/CMakeLists.txt.
baton_add_test(fuse_apps_test SOURCES apps_test.cc LIBS baton_fuse_testutil LABELS fuse TIMEOUT 300)
baton_add_test(fuse_two_mount_test SOURCES two_mount_test.cc LIBS baton_fuse_testutil LABELS fuse TIMEOUT 300)
baton_add_test(fuse_durability_test SOURCES durability_test.cc LIBS baton_fuse_testutil LABELS fuse TIMEOUT 300)
baton_add_test(fuse_mount_cli_test SOURCES mount_cli_test.cc LIBS baton_fuse_testutil LABELS fuse TIMEOUT 300)
foreach(t fuse_apps_test fuse_two_mount_test fuse_durability_test fuse_mount_cli_test)
  add_dependencies(${t} baton)
endforeach()
