// The metadata server process: `baton mds VOLUME --listen ADDR:PORT`.
//
// RunMds opens the volume, binds its address, opens (or seeds) its own
// metadata store (mds/store_bootstrap.h) and runs for election
// (mds/election.h). While another MDS is active it is a standby
// (mds/standby.h): it follows the journal, answers clients with a redirect,
// and takes over when the active dies or hangs. The active raises the epoch
// (DESIGN invariant 5), replays the journal tail into its store, opens the
// journal for appending and serves clients until SIGTERM/SIGINT (or
// RequestMdsStop()). A signal before serving (a standby, replay) ends the
// process at once with 0. Threads and data path: mds/server.h,
// mds/sequencer.h; wire format: docs/format/wire-protocol.md.
// It returns a process exit code:
//   0  clean stop
//   1  fail-stop (journal write/fsync error, store error, corruption)
//   2  bad options, the address is in use, or (with standby = false) the
//      volume is served by another MDS
//   3  deposed: another MDS took over while this one hung (mds/election.h)
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace baton::mds {

struct MdsOptions {
  std::string volume_path;
  std::string listen_addr = "127.0.0.1:7070";  // host:port (IPv4 literal or "localhost")
  std::string name;                            // VOLUME/mds/NAME; default DefaultMdsName(listen_addr)
  bool standby = true;                         // another MDS is active: follow it (false: exit 2 naming it)
  uint32_t lease_ms = 2000;                    // a hung active is taken over after this (mds/election.h)
  uint32_t checkpoint_interval_ms = 30000;     // MetaStore::Sync + Journal::Trim at most this often
  uint64_t checkpoint_records = 100000;        // ... or after this many records
  // Deferred store commit (mds/sequencer.h): the store's transaction is
  // committed at most this long after its first change; 0 = every batch.
  uint32_t store_commit_interval_ms = 50;
  uint32_t orphan_grace_ms = 30000;            // startup orphans are reclaimed after this unless re-opened
  uint32_t max_batch_records = 1024;           // group-commit batch bound
  // Space reserve: an op that consumes space (write, fallocate, create,
  // setxattr, truncate) is answered ENOSPC without being journaled while the
  // file system holding the volume has less free space than the larger of
  // these two (so the journal and the store never fill the disk: a record
  // that cannot be applied would fail-stop the MDS on every restart).
  uint64_t min_free_bytes = 256ull << 20;
  uint32_t min_free_percent = 5;
  bool install_signal_handlers = true;         // SIGTERM/SIGINT -> clean stop (tools/ wants true)
  std::string holder_description;              // text for the lock file; default "baton mds pid N at ADDR"
  // Prometheus metrics (mds/metrics.h) at http://ADDR/metrics, in every
  // role; "" = none. Bound right after listen_addr (a busy address: exit 2).
  std::string metrics_addr;
  // Called once serving, with the bound address (useful with port 0).
  std::function<void(const std::string& bound_addr)> on_serving;
};

int RunMds(const MdsOptions& options);

// Asks a running RunMds (in this process) to stop cleanly; async-signal-safe.
void RequestMdsStop();

}  // namespace baton::mds
