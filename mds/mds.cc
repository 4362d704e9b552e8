#include "mds/mds.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "base/log.h"
#include "fs/apply.h"
#include "fs/meta_store.h"
#include "journal/journal.h"
#include "mds/replay.h"
#include "mds/space.h"
#include "mds/sequencer.h"
#include "mds/server.h"
#include "volume/volume.h"

namespace baton::mds {

namespace {

std::atomic<bool> g_stop{false};
constexpr int kStandbyPollMs = 10;
constexpr int kStoppedBeforeServing = -1;  // LockVolume: a stop request came first (exit 0)
// False until the MDS serves. A signal before that (a standby waiting for the
// lock, or replay) ends the process at once: nothing is in flight, and the
// store and journal are crash-safe at every point.
std::atomic<bool> g_serving{false};

int ServeClients(volume::Volume& vol, fs::MetaStore& store, journal::Journal& jnl, const MdsOptions& o,
                 uint64_t epoch);

void OnSignal(int) {
  if (!g_serving.load()) ::_exit(0);
  g_stop.store(true);
}

void InstallSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

std::string HolderText(const MdsOptions& o) {
  if (!o.holder_description.empty()) return o.holder_description;
  return "baton mds pid " + std::to_string(::getpid()) + " at " + o.listen_addr;
}

// Takes the writer lock; returns an exit code (0 = got it).
int LockVolume(volume::Volume& vol, const MdsOptions& o) {
  Status st = vol.TryLockWriter(HolderText(o));
  if (st.IsBusy() && o.wait_for_lock) {
    // Standby: poll rather than block in F_OFD_SETLKW, so that a stop request
    // is seen within one interval in every environment; takeover latency is
    // at most kStandbyPollMs after the holder dies.
    LOG_INFO("mds", "standby: waiting for the writer lock of %s (%s)", o.volume_path.c_str(),
             vol.DescribeLockHolder().c_str());
    while (st.IsBusy() && !g_stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kStandbyPollMs));
      st = vol.TryLockWriter(HolderText(o));
    }
    if (!st.ok() && g_stop.load()) return kStoppedBeforeServing;
  }
  if (st.ok()) return 0;
  if (st.IsBusy()) {
    // The volume's message names the volume and the holder.
    LOG_ERROR("mds", "refusing to serve: %s", st.message().c_str());
    return 2;
  }
  LOG_ERROR("mds", "cannot lock volume %s: %s", o.volume_path.c_str(), st.ToString().c_str());
  return 1;
}

// After replay the store must have applied exactly the records the journal
// holds: the sequencer relies on the next appended LSN being applied_lsn + 1
// (a record at or below applied_lsn would be skipped by apply, yet answered).
bool JournalMatchesStore(fs::MetaStore& store, journal::Journal& jnl, const MdsOptions& o) {
  StatusOr<fs::StoreState> state = store.ReadState();
  if (!state.ok()) {
    LOG_ERROR("mds", "cannot read the metadata store state: %s", state.status().ToString().c_str());
    return false;
  }
  if (jnl.next_lsn() == state->applied_lsn + 1) return true;
  LOG_ERROR("mds",
            "refusing to serve %s: the journal continues at lsn %llu but the metadata store has applied up to "
            "lsn %llu (expected the journal to continue at %llu); the journal and the store do not belong "
            "together (run baton fsck)",
            o.volume_path.c_str(), static_cast<unsigned long long>(jnl.next_lsn()),
            static_cast<unsigned long long>(state->applied_lsn),
            static_cast<unsigned long long>(state->applied_lsn + 1));
  return false;
}

// Everything after the lock: epoch, store, replay, journal, serve.
int Serve(volume::Volume& vol, const MdsOptions& o) {
  // The superblock was read before the lock: other takeovers may have raised
  // the epoch while we waited. Build on the copy the last holder left.
  StatusOr<volume::Superblock> fresh = vol.ReloadSuperblock();
  if (!fresh.ok()) {
    LOG_ERROR("mds", "cannot re-read the superblock of %s: %s", o.volume_path.c_str(),
              fresh.status().ToString().c_str());
    return 1;
  }
  uint64_t epoch = fresh->epoch + 1;
  Status st = vol.SetEpoch(epoch);
  if (!st.ok()) {
    LOG_ERROR("mds", "cannot raise the epoch of %s: %s", o.volume_path.c_str(), st.ToString().c_str());
    return 1;
  }
  StatusOr<std::unique_ptr<fs::MetaStore>> store = fs::MetaStore::Open(vol.meta_dir(), vol.store_options());
  if (!store.ok()) {
    LOG_ERROR("mds", "cannot open the metadata store: %s", store.status().ToString().c_str());
    return 1;
  }
  st = ReplayJournal(vol, **store);
  if (!st.ok()) {
    if (st.code() == Code::kNoSpace) LogVolumeFull(o.volume_path);
    LOG_ERROR("mds", "replay failed: %s", st.ToString().c_str());
    return 1;
  }
  journal::JournalOptions jo = vol.journal_options();
  jo.epoch = epoch;
  StatusOr<std::unique_ptr<journal::Journal>> jnl = journal::Journal::Open(jo);
  if (!jnl.ok()) {
    LOG_ERROR("mds", "cannot open the journal: %s", jnl.status().ToString().c_str());
    return 1;
  }
  if (!JournalMatchesStore(**store, **jnl, o)) return 1;
  return ServeClients(vol, **store, **jnl, o, epoch);
}

int ServeClients(volume::Volume& vol, fs::MetaStore& store, journal::Journal& jnl, const MdsOptions& o,
                 uint64_t epoch) {
  OpenTable opens;
  SequencerOptions so;
  so.max_batch_records = o.max_batch_records;
  so.checkpoint_interval_ms = o.checkpoint_interval_ms;
  so.checkpoint_records = o.checkpoint_records;
  so.orphan_grace_ms = o.orphan_grace_ms;
  so.volume_path = o.volume_path;
  so.min_free_bytes = o.min_free_bytes;
  so.min_free_percent = o.min_free_percent;
  Sequencer seq(vol.env(), &store, &jnl, &opens, so);
  Status st = seq.Start();
  if (!st.ok()) {
    LOG_ERROR("mds", "cannot start the sequencer: %s", st.ToString().c_str());
    return 1;
  }
  ServerOptions svo;
  svo.listen_addr = o.listen_addr;
  svo.epoch = epoch;
  MdsServer server(&store, &seq, &opens, svo);
  st = server.Start();
  if (!st.ok()) {
    LOG_ERROR("mds", "cannot listen on %s: %s", o.listen_addr.c_str(), st.ToString().c_str());
    seq.Stop();
    return 2;
  }
  LOG_INFO("mds", "serving volume %s on %s as active, epoch %llu", o.volume_path.c_str(),
           server.address().c_str(), static_cast<unsigned long long>(epoch));
  g_serving.store(true);
  if (g_stop.load()) LOG_INFO("mds", "stop requested during startup");
  if (o.on_serving) o.on_serving(server.address());
  while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  LOG_INFO("mds", "stopping: closing connections, finishing the batch in flight");
  server.Stop();
  seq.Stop();
  jnl.Close().PermitUnchecked();
  LOG_INFO("mds", "stopped cleanly at applied lsn %llu", static_cast<unsigned long long>(seq.applied_lsn()));
  g_serving.store(false);
  return 0;
}

}  // namespace

void RequestMdsStop() { g_stop.store(true); }

int RunMds(const MdsOptions& o) {
  g_stop.store(false);
  g_serving.store(false);
  if (o.install_signal_handlers) InstallSignalHandlers();
  LOG_INFO("mds", "starting: volume %s, listen %s", o.volume_path.c_str(), o.listen_addr.c_str());
  StatusOr<std::unique_ptr<volume::Volume>> vol = volume::Volume::Open(Env::Default(), o.volume_path);
  if (!vol.ok()) {
    LOG_ERROR("mds", "cannot open volume %s: %s", o.volume_path.c_str(), vol.status().ToString().c_str());
    return 2;
  }
  int rc = LockVolume(**vol, o);
  if (rc == kStoppedBeforeServing) {
    LOG_INFO("mds", "stopped while waiting for the writer lock");
    return 0;
  }
  if (rc != 0) return rc;
  return Serve(**vol, o);
}

}  // namespace baton::mds
