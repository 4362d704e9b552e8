# lmdb_crash_test: LMDB's power-loss guarantee with our flags (docs/ARCHITECTURE.md,
# "Crash safety of the two stores"), checked on LMDB's real I/O. The child
# runs a MetaStore under the LD_PRELOAD shim, which logs every write and sync
# of data.mdb; the test rebuilds crash images of data.mdb from that log and
# opens each with MetaStore::Open.

# The shim: no sanitizers (it is preloaded into the child; under
# BATON_SANITIZE the test preloads libasan before it), nothing of BatonFS.
add_library(lmdb_io_shim MODULE lmdb_io_shim.cc)
target_link_libraries(lmdb_io_shim PRIVATE ${CMAKE_DL_LIBS})
get_target_property(_lmdb_shim_copts lmdb_io_shim COMPILE_OPTIONS)
if(_lmdb_shim_copts)
  list(FILTER _lmdb_shim_copts EXCLUDE REGEX "sanitize")
  set_property(TARGET lmdb_io_shim PROPERTY COMPILE_OPTIONS "${_lmdb_shim_copts}")
endif()
get_target_property(_lmdb_shim_lopts lmdb_io_shim LINK_OPTIONS)
if(_lmdb_shim_lopts)
  list(FILTER _lmdb_shim_lopts EXCLUDE REGEX "sanitize")
  set_property(TARGET lmdb_io_shim PROPERTY LINK_OPTIONS "${_lmdb_shim_lopts}")
endif()

add_executable(lmdb_crash_child lmdb_crash_child.cc)
target_link_libraries(lmdb_crash_child PRIVATE baton_fs ${CMAKE_DL_LIBS})

baton_add_test(lmdb_crash_test SOURCES lmdb_crash_test.cc LIBS baton_fs ${CMAKE_DL_LIBS}
               LABELS torture unit TIMEOUT 180)
target_compile_definitions(lmdb_crash_test PRIVATE
  LMDB_CRASH_CHILD="$<TARGET_FILE:lmdb_crash_child>"
  LMDB_IO_SHIM="$<TARGET_FILE:lmdb_io_shim>")
add_dependencies(lmdb_crash_test lmdb_crash_child lmdb_io_shim)
# The test builds requests with designated initializers.
target_compile_options(lmdb_crash_test PRIVATE -Wno-missing-field-initializers)
