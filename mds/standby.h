// The standby role (standby-replay).
//
// A standby keeps its own metadata store warm by following the journal as
// the active appends to it (journal/journal_tail.h): every 10 ms it reads the
// records up to the active's published durable LSN (VOLUME/mds/ACTIVE/info;
// the active publishes only records that passed its fence check, so a
// standby never applies a record that is not part of the history) and applies
// them with the one fs::ApplyBatch. It syncs its store every second and
// publishes how far it got (its info file: applied, synced and lag), which
// also bounds the active's journal trim. If the active trimmed past it
// anyway (it was away too long), it re-seeds its store (mds/store_bootstrap.h).
//
// Meanwhile it listens on its address: HELLO is answered "standby, the
// active is X" (and the connection closed), STATUS with its own state; and it
// polls the election (mds/election.h). When it wins it returns the lease: the
// takeover then replays only the tail it had not yet applied.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "fs/meta_store.h"
#include "mds/election.h"
#include "mds/metrics.h"
#include "proto/messages.h"
#include "volume/volume.h"

namespace baton::mds {

// What an MDS tells clients and `baton status` about itself; shared between
// its role's thread and the thread answering the network.
class MdsView {
 public:
  void Set(const proto::StatusInfo& s);
  proto::StatusInfo Get() const;

 private:
  mutable std::mutex mu_;
  proto::StatusInfo info_;  // GUARDED_BY(mu_)
};

// The MDS map: every MDS of the volume that published within the last five
// minutes and did not stop, `active` first, then `self`, then the others.
std::vector<std::string> MdsMap(Env* env, const std::string& volume, const std::string& volume_id,
                                const std::string& active, const std::string& self);

// Answers HELLO (redirect) and STATUS on a listening socket while this MDS
// is not the active. Does not own the socket. Each connection is answered on
// its own short-lived thread (at most kMaxAnswerThreads at once; beyond that
// inline), so a connection that sends nothing delays no one else.
class StandbyListener {
 public:
  StandbyListener(int listen_fd, const MdsView* view) : fd_(listen_fd), view_(view) {}
  ~StandbyListener() { Stop(); }
  void Start();
  void Stop();

 private:
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  static constexpr size_t kMaxAnswerThreads = 32;
  void Loop();
  void Answer(int fd);
  void Reap(bool all);

  int fd_;
  const MdsView* view_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<Worker> workers_;  // touched by thread_ only
};

struct StandbyOptions {
  std::string name;
  std::string address;
  const std::atomic<bool>* stop = nullptr;  // a stop request ends RunStandby with nullptr
  MdsMetrics* metrics = nullptr;            // optional: apply latency, LSNs, lag, epoch
};

// Follows the journal into *store until this MDS wins the election (returns
// the lease) or a stop is requested (returns nullptr). Errors: a store that
// cannot be re-seeded, an apply failure (the store is then not trusted).
StatusOr<std::unique_ptr<Lease>> RunStandby(volume::Volume& vol, Election& election,
                                            std::unique_ptr<fs::MetaStore>* store, MdsView* view,
                                            const StandbyOptions& options);

}  // namespace baton::mds
