#include "mds/mds.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "base/log.h"
#include "fs/apply.h"
#include "fs/meta_store.h"
#include "journal/journal.h"
#include "mds/election.h"
#include "mds/mds_info.h"
#include "mds/metrics.h"
#include "mds/replay.h"
#include "mds/sequencer.h"
#include "mds/server.h"
#include "mds/space.h"
#include "mds/standby.h"
#include "mds/store_bootstrap.h"
#include "proto/net.h"
#include "volume/volume.h"

namespace baton::mds {

namespace {

std::atomic<bool> g_stop{false};
// False until the MDS serves. A signal before that (a standby, or replay)
// ends the process at once: nothing is in flight, and the store and journal
// are crash-safe at every point.
std::atomic<bool> g_serving{false};
// A standby whose info is older than this does not hold back the journal
// trim (it re-seeds its store when it comes back).
constexpr int64_t kStandbyTrimHorizonNs = 120'000'000'000;

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

// The lowest LSN every live standby's store holds durably (trim bound).
uint64_t StandbyTrimLimit(Env* env, const std::string& volume, const std::string& uuid, const std::string& self,
                          uint64_t lsn) {
  const int64_t now = env->NowRealtimeNanos();
  for (const MdsInfo& i : ListMdsInfos(env, volume, uuid)) {
    if (i.name == self || i.role != "standby" || now - i.updated_ns > kStandbyTrimHorizonNs) continue;
    lsn = std::min(lsn, i.synced_lsn);
  }
  return lsn;
}

// The role gauges; a standby's lag is 0 once it leaves that role.
void NoteRole(MdsMetrics& m, const char* role, uint64_t epoch) {
  m.SetRole(role);
  m.epoch->Set(static_cast<double>(epoch));
  if (std::string_view(role) != "standby") m.standby_lag_records->Set(0);
}

struct Ctx {
  volume::Volume& vol;
  std::string uuid;  // volume::FormatVolumeId of the volume
  const MdsOptions& o;
  std::string name;
  int listen_fd;
  std::string address;
  MdsMetrics* metrics;  // lives as long as RunMds: through every role
};

int ServeClients(Ctx& ctx, Lease& lease, fs::MetaStore& store, journal::Journal& jnl) {
  const MdsOptions& o = ctx.o;
  Env* env = ctx.vol.env();
  OpenTable opens;
  SequencerOptions so;
  so.max_batch_records = o.max_batch_records;
  so.checkpoint_interval_ms = o.checkpoint_interval_ms;
  so.checkpoint_records = o.checkpoint_records;
  so.store_commit_interval_ms = o.store_commit_interval_ms;
  so.orphan_grace_ms = o.orphan_grace_ms;
  so.volume_path = o.volume_path;
  so.min_free_bytes = o.min_free_bytes;
  so.min_free_percent = o.min_free_percent;
  so.before_append = [&lease] { lease.WaitFresh(); };
  so.after_durable = [&lease] { lease.ConfirmFence(); };
  const std::string name = ctx.name;
  const std::string uuid = ctx.uuid;
  so.trim_limit = [env, &o, uuid, name](uint64_t lsn) { return StandbyTrimLimit(env, o.volume_path, uuid, name, lsn); };
  so.metrics = ctx.metrics;
  Sequencer seq(env, &store, &jnl, &opens, so);
  Status st = seq.Start();
  if (!st.ok()) {
    LOG_ERROR("mds", "cannot start the sequencer: %s", st.ToString().c_str());
    return 1;
  }
  ServerOptions svo;
  svo.listen_fd = ctx.listen_fd;
  svo.bound_address = ctx.address;
  svo.epoch = lease.epoch();
  svo.name = ctx.name;
  svo.volume_id = ctx.uuid;
  const std::string addr = ctx.address;
  svo.mds_map = [env, &o, uuid, addr] { return MdsMap(env, o.volume_path, uuid, addr, addr); };
  svo.may_send = [&lease] { return lease.Fresh(); };
  svo.on_newer_epoch = [&lease] { lease.CheckFence(); };  // exits if deposed
  svo.metrics = ctx.metrics;
  MdsServer server(&seq, &opens, svo);
  // The heartbeat publishes what followers may apply: the applied LSN (every
  // applied record passed the fence check after its fsync).
  lease.StartHeartbeat([&seq, &server, addr, &lease] {
    MdsInfo i;
    i.address = addr;
    i.pid = static_cast<uint64_t>(::getpid());
    i.role = "active";
    i.epoch = lease.epoch();
    i.applied_lsn = seq.applied_lsn();
    i.durable_lsn = i.applied_lsn;
    i.synced_lsn = seq.synced_lsn();
    i.sessions = server.session_count();
    return i;
  });
  // The heartbeat reads seq and server: it stops before they go, on every path.
  struct HeartbeatStopper {
    Lease& l;
    ~HeartbeatStopper() { l.StopHeartbeat(); }
  } stopper{lease};
  st = server.Start();
  if (!st.ok()) {
    LOG_ERROR("mds", "cannot serve on %s: %s", addr.c_str(), st.ToString().c_str());
    seq.Stop();
    return 1;
  }
  NoteRole(*ctx.metrics, "active", lease.epoch());
  ctx.metrics->applied_lsn->Set(static_cast<double>(seq.applied_lsn()));
  ctx.metrics->durable_lsn->Set(static_cast<double>(seq.durable_lsn()));
  LOG_INFO("mds", "serving volume %s on %s as active %s, epoch %llu", o.volume_path.c_str(), addr.c_str(),
           ctx.name.c_str(), static_cast<unsigned long long>(lease.epoch()));
  g_serving.store(true);
  if (g_stop.load()) LOG_INFO("mds", "stop requested during startup");
  if (o.on_serving) o.on_serving(addr);
  while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  LOG_INFO("mds", "stopping: closing connections, finishing the batch in flight");
  server.Stop();
  seq.Stop();
  jnl.Close().PermitUnchecked();
  lease.StopHeartbeat();
  MdsInfoWriter info(env, o.volume_path, ctx.name, ctx.uuid);
  MdsInfo last;
  last.address = addr;
  last.role = "stopped";
  last.epoch = lease.epoch();
  last.applied_lsn = last.synced_lsn = seq.applied_lsn();
  info.Write(last).PermitUnchecked();
  LOG_INFO("mds", "stopped cleanly at applied lsn %llu", static_cast<unsigned long long>(seq.applied_lsn()));
  g_serving.store(false);
  return 0;
}

// This MDS won the election: raise the epoch, replay the tail, serve.
int TakeOver(Ctx& ctx, std::unique_ptr<Lease> lease, std::unique_ptr<fs::MetaStore> store) {
  const MdsOptions& o = ctx.o;
  // Build on the superblock the last holder left, whatever we read before.
  StatusOr<volume::Superblock> fresh = ctx.vol.ReloadSuperblock();
  if (!fresh.ok()) {
    LOG_ERROR("mds", "cannot re-read the superblock of %s: %s", o.volume_path.c_str(),
              fresh.status().ToString().c_str());
    return 1;
  }
  StatusOr<uint64_t> next = NextWriterEpoch(ctx.vol.env(), ctx.vol.journal_dir(), *fresh);
  if (!next.ok()) {
    LOG_ERROR("mds", "cannot read the journal's segment headers: %s", next.status().ToString().c_str());
    return 1;
  }
  const uint64_t epoch = *next;
  Status st = ctx.vol.SetEpoch(epoch);
  if (!st.ok()) {
    LOG_ERROR("mds", "cannot raise the epoch of %s: %s", o.volume_path.c_str(), st.ToString().c_str());
    return 1;
  }
  lease->set_epoch(epoch);
  lease->WriteHolderText();
  NoteRole(*ctx.metrics, "taking-over", epoch);
  // Publish at once (standbys watch this heartbeat) while replaying.
  {
    MdsInfoWriter info(ctx.vol.env(), o.volume_path, ctx.name, ctx.uuid);
    MdsInfo i;
    i.address = ctx.address;
    i.pid = static_cast<uint64_t>(::getpid());
    i.role = "taking-over";
    i.epoch = epoch;
    info.Write(i).PermitUnchecked();
  }
  lease->StartHeartbeat([&ctx, epoch] {
    MdsInfo i;
    i.address = ctx.address;
    i.pid = static_cast<uint64_t>(::getpid());
    i.role = "taking-over";
    i.epoch = epoch;
    return i;
  });
  LOG_INFO("mds", "%s takes over volume %s at epoch %llu", ctx.name.c_str(), o.volume_path.c_str(),
           static_cast<unsigned long long>(epoch));
  // The journal first: its scan fixes where the history ends (a new segment
  // of this epoch starts there, and syncs the tail the last writer may not
  // have synced); a deposed writer's later records lie beyond it and are
  // ignored by the replay that follows.
  journal::JournalOptions jo = ctx.vol.journal_options();
  jo.epoch = epoch;
  MdsMetrics* metrics = ctx.metrics;
  jo.on_group_synced = [metrics](const journal::GroupSyncStats& s) { metrics->ObserveGroupSynced(s); };
  StatusOr<std::unique_ptr<journal::Journal>> jnl = journal::Journal::Open(jo);
  if (!jnl.ok()) {
    LOG_ERROR("mds", "cannot open the journal: %s", jnl.status().ToString().c_str());
    return 1;
  }
  st = ReplayJournal(ctx.vol, *store);
  if (st.IsNotFound()) {
    // This MDS's store is older than the journal's first record: it was
    // re-seeded (as a standby) while the active went on trimming, and won the
    // election before it could catch up. Seed it again from the best store
    // the journal now covers (the last active's own), then replay.
    LOG_WARN("mds", "%s: %s; re-seeding the metadata store before the replay", ctx.name.c_str(),
             st.message().c_str());
    StatusOr<std::unique_ptr<fs::MetaStore>> reseeded = ReseedOwnStore(ctx.vol, ctx.name, std::move(store));
    if (!reseeded.ok()) {
      LOG_ERROR("mds", "cannot re-seed the metadata store: %s", reseeded.status().ToString().c_str());
      return 1;
    }
    store = std::move(reseeded).value();
    st = ReplayJournal(ctx.vol, *store);
  }
  if (!st.ok()) {
    if (st.code() == Code::kNoSpace) LogVolumeFull(o.volume_path);
    LOG_ERROR("mds", "replay failed: %s", st.ToString().c_str());
    return 1;
  }
  if (!JournalMatchesStore(*store, **jnl, o)) return 1;
  lease->StopHeartbeat();  // ServeClients restarts it with the serving snapshot
  return ServeClients(ctx, *lease, *store, **jnl);
}

}  // namespace

void RequestMdsStop() { g_stop.store(true); }

int RunMds(const MdsOptions& o) {
  g_stop.store(false);
  g_serving.store(false);
  if (o.install_signal_handlers) InstallSignalHandlers();
  if (!o.name.empty() && !ValidMdsName(o.name)) {
    LOG_ERROR("mds", "bad MDS name '%s': use 1-64 of A-Z a-z 0-9 . _ -", o.name.c_str());
    return 2;
  }
  LOG_INFO("mds", "starting: volume %s, listen %s", o.volume_path.c_str(), o.listen_addr.c_str());
  StatusOr<std::unique_ptr<volume::Volume>> vol = volume::Volume::Open(Env::Default(), o.volume_path);
  if (!vol.ok()) {
    LOG_ERROR("mds", "cannot open volume %s: %s", o.volume_path.c_str(), vol.status().ToString().c_str());
    return 2;
  }
  // Bind first: a busy address fails before anything is written.
  std::string address;
  StatusOr<int> listen_fd = proto::ListenTcp(o.listen_addr, &address);
  if (!listen_fd.ok()) {
    LOG_ERROR("mds", "cannot listen on %s: %s (nothing was written to %s)", o.listen_addr.c_str(),
              listen_fd.status().ToString().c_str(), o.volume_path.c_str());
    return 2;
  }
  struct FdCloser {
    int fd;
    ~FdCloser() { proto::CloseFd(fd); }
  } closer{*listen_fd};
  // The metrics endpoint next: it serves from here on, in every role.
  MdsMetrics metrics(static_cast<double>(Env::Default()->NowRealtimeNanos()) / 1e9);
  std::unique_ptr<MetricsServer> metrics_server;
  if (!o.metrics_addr.empty()) {
    StatusOr<std::unique_ptr<MetricsServer>> ms = MetricsServer::Listen(o.metrics_addr, &metrics.registry());
    if (!ms.ok()) {
      LOG_ERROR("mds", "cannot listen for metrics on %s: %s (nothing was written to %s)", o.metrics_addr.c_str(),
                ms.status().ToString().c_str(), o.volume_path.c_str());
      return 2;
    }
    metrics_server = std::move(ms).value();
    metrics_server->Start();
    LOG_INFO("mds", "metrics on http://%s/metrics", metrics_server->address().c_str());
  }
  // The default name comes from the bound address (port 0 gets the real one).
  const std::string name = o.name.empty() ? DefaultMdsName(address) : o.name;
  StatusOr<int> name_lock = LockMdsName(o.volume_path, name, address);
  if (!name_lock.ok()) {
    LOG_ERROR("mds", "refusing to start: %s", name_lock.status().ToString().c_str());
    return 2;
  }
  FdCloser name_closer{*name_lock};
  LOG_INFO("mds", "%s listens on %s", name.c_str(), address.c_str());
  Ctx ctx{**vol, volume::FormatVolumeId((*vol)->superblock().volume_id), o, name, *listen_fd, address, &metrics};

  // Before the election: seeding a store may take a while, and an elected
  // active must start its heartbeat at once.
  StatusOr<std::unique_ptr<fs::MetaStore>> store = OpenOwnStore(**vol, name);
  if (!store.ok()) {
    LOG_ERROR("mds", "cannot open a metadata store for %s: %s", name.c_str(), store.status().ToString().c_str());
    return store.status().IsNotFound() ? 1 : 2;
  }
  ElectionOptions eo;
  eo.volume_path = o.volume_path;
  eo.name = name;
  eo.address = address;
  eo.lease_ms = o.lease_ms;
  eo.volume_id = ctx.uuid;
  Election election(Env::Default(), eo);
  StatusOr<std::unique_ptr<Lease>> lease = election.Poll();
  if (!lease.ok()) {
    LOG_ERROR("mds", "election on %s failed: %s", o.volume_path.c_str(), lease.status().ToString().c_str());
    return 1;
  }
  if (!*lease && !o.standby) {
    LOG_ERROR("mds", "refusing to serve: volume %s is already served by another MDS (%s)", o.volume_path.c_str(),
              election.DescribeHolder().c_str());
    return 2;
  }
  if (!*lease) {
    MdsView view;
    StandbyListener listener(*listen_fd, &view);
    StandbyOptions so;
    so.name = name;
    so.address = address;
    so.stop = &g_stop;
    so.metrics = &metrics;
    NoteRole(metrics, "standby", (*vol)->superblock().epoch);
    proto::StatusInfo initial;
    initial.role = proto::Role::kStandby;
    initial.address = address;
    initial.name = name;
    initial.volume_id = ctx.uuid;
    view.Set(initial);
    listener.Start();
    LOG_INFO("mds", "%s is a standby on %s (the active is %s)", name.c_str(), address.c_str(),
             election.DescribeHolder().c_str());
    lease = RunStandby(**vol, election, &*store, &view, so);
    listener.Stop();
    if (!lease.ok()) {
      LOG_ERROR("mds", "standby %s failed: %s", name.c_str(), lease.status().ToString().c_str());
      return 1;
    }
    if (!*lease) {
      LOG_INFO("mds", "standby %s stopped", name.c_str());
      return 0;
    }
  }
  return TakeOver(ctx, std::move(*lease), std::move(*store));
}

}  // namespace baton::mds
