#include "mds/standby.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>

#include "base/log.h"
#include "fs/apply.h"
#include "journal/journal_tail.h"
#include "mds/mds_info.h"
#include "mds/store_bootstrap.h"
#include "proto/frame.h"
#include "proto/net.h"
#include "volume/superblock.h"

namespace baton::mds {

namespace {

constexpr int kPollMs = 10;                          // election and journal polling
constexpr uint64_t kPublishEveryNs = 100'000'000;    // info file and view
constexpr uint64_t kSyncEveryNs = 1'000'000'000;     // store sync (bounds the active's trim)
constexpr size_t kFollowBatchBytes = 2u << 20;       // one apply transaction at most (keeps polls frequent)
constexpr int64_t kMapHorizonNs = 300'000'000'000;  // MDSs silent longer are left out of the map
constexpr uint32_t kListenerReadTimeoutMs = 500;

void NoteStandbyProgress(MdsMetrics& m, uint64_t applied, uint64_t active_durable, uint64_t behind) {
  m.applied_lsn->Set(static_cast<double>(applied));
  m.durable_lsn->Set(static_cast<double>(active_durable));
  m.standby_lag_records->Set(static_cast<double>(behind));
}

}  // namespace

void MdsView::Set(const proto::StatusInfo& s) {
  std::lock_guard<std::mutex> l(mu_);
  info_ = s;
}

proto::StatusInfo MdsView::Get() const {
  std::lock_guard<std::mutex> l(mu_);
  return info_;
}

std::vector<std::string> MdsMap(Env* env, const std::string& volume, const std::string& volume_id,
                                const std::string& active, const std::string& self) {
  std::vector<std::string> out;
  auto add = [&](const std::string& a) {
    if (a.empty()) return;
    for (const std::string& k : out)
      if (k == a) return;
    out.push_back(a);
  };
  add(active);
  add(self);
  const int64_t now = env->NowRealtimeNanos();
  for (const MdsInfo& i : ListMdsInfos(env, volume, volume_id)) {
    if (i.role == "stopped" || now - i.updated_ns > kMapHorizonNs) continue;
    if (out.size() < proto::kMaxAddresses) add(i.address);
  }
  return out;
}

// ---- StandbyListener ----

void StandbyListener::Start() {
  stop_.store(false);
  thread_ = std::thread([this] { Loop(); });
}

void StandbyListener::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void StandbyListener::Reap(bool all) {
  for (size_t i = 0; i < workers_.size();) {
    if (all || workers_[i].done->load()) {
      workers_[i].thread.join();
      workers_[i] = std::move(workers_.back());
      workers_.pop_back();
    } else {
      i++;
    }
  }
}

void StandbyListener::Loop() {
  while (!stop_.load()) {
    Reap(false);
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    if (workers_.size() >= kMaxAnswerThreads) {
      Answer(fd);
      proto::CloseFd(fd);
      continue;
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    workers_.push_back(Worker{std::thread([this, fd, done] {
                                Answer(fd);
                                proto::CloseFd(fd);
                                done->store(true);
                              }),
                              done});
  }
  Reap(true);  // each ends within the read timeout
}

// One frame in, one frame out, then the connection is closed: a standby
// holds no sessions.
void StandbyListener::Answer(int fd) {
  timeval tv{0, static_cast<suseconds_t>(kListenerReadTimeoutMs * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  proto::FrameDecoder dec;
  proto::Frame f;
  if (!proto::ReadFrame(fd, &dec, &f).ok()) return;
  proto::StatusInfo v = view_->Get();
  if (f.kind == proto::FrameKind::kStatus) {
    proto::SendFrame(fd, {proto::FrameKind::kStatusReply, 0, 0, 0, proto::EncodeStatusInfo(v)}).PermitUnchecked();
    return;
  }
  if (f.kind == proto::FrameKind::kHello) {
    proto::HelloReply r;
    r.accepted_version = proto::kProtocolVersion;
    r.session_id = 0;
    r.epoch = v.epoch;
    r.role = v.role;
    r.durable_lsn = v.applied_lsn;
    r.mds_addresses = v.mds_addresses;
    r.volume_id = v.volume_id;
    proto::SendFrame(fd, {proto::FrameKind::kHelloReply, 0, 0, 0, proto::EncodeHelloReply(r)}).PermitUnchecked();
    return;
  }
  proto::ErrorBody e;
  e.code = static_cast<uint32_t>(Code::kInvalidArgument);
  e.message = "this MDS is not active" + (v.active_address.empty() ? std::string() : "; the active is " + v.active_address);
  proto::SendFrame(fd, {proto::FrameKind::kError, 0, 0, 0, proto::EncodeErrorBody(e)}).PermitUnchecked();
}

// ---- RunStandby ----

StatusOr<std::unique_ptr<Lease>> RunStandby(volume::Volume& vol, Election& election,
                                            std::unique_ptr<fs::MetaStore>* store, MdsView* view,
                                            const StandbyOptions& o) {
  Env* env = vol.env();
  const journal::VolumeId vid = vol.superblock().volume_id;
  const std::string uuid = volume::FormatVolumeId(vid);
  MdsInfoWriter info(env, vol.path(), o.name, uuid);
  BATON_ASSIGN_OR_RETURN(fs::StoreState st, (*store)->ReadState());
  uint64_t applied = st.applied_lsn, synced = applied;
  auto tail = std::make_unique<journal::JournalTail>(env, vol.journal_dir(), vid, applied + 1);
  uint64_t last_sync = env->NowMonotonicNanos(), last_publish = 0;
  bool follow_broken = false;
  std::string last_holder = "?";
  LOG_INFO("mds", "standby %s: following the journal from lsn %llu (active: %s)", o.name.c_str(),
           static_cast<unsigned long long>(applied + 1), election.DescribeHolder().c_str());
  for (;;) {
    if (o.stop != nullptr && o.stop->load()) return std::unique_ptr<Lease>();
    BATON_ASSIGN_OR_RETURN(std::unique_ptr<Lease> lease, election.Poll());
    if (lease) return lease;

    const std::string holder = election.HolderName();
    if (holder != last_holder) {
      LOG_INFO("mds", "standby %s: the active MDS is %s", o.name.c_str(), holder.empty() ? "unknown" : holder.c_str());
      last_holder = holder;
    }
    MdsInfo active;
    bool have_active = false;
    if (!holder.empty()) {
      StatusOr<MdsInfo> i = ReadMdsInfo(env, vol.path(), holder, uuid);
      if (i.ok() && i->role == "active") {
        active = *i;
        have_active = true;
      }
    }
    size_t applied_now = 0;
    const uint64_t behind = have_active && active.durable_lsn > applied ? active.durable_lsn - applied : 0;
    if (have_active && active.durable_lsn > applied && !follow_broken) {
      std::vector<journal::Record> recs;
      Status rs = tail->ReadUpTo(active.durable_lsn, active.epoch, kFollowBatchBytes, &recs);
      if (rs.IsNotFound()) {
        LOG_WARN("mds", "standby %s: %s; re-seeding the store", o.name.c_str(), rs.message().c_str());
        BATON_ASSIGN_OR_RETURN(*store, ReseedOwnStore(vol, o.name, std::move(*store)));
        BATON_ASSIGN_OR_RETURN(st, (*store)->ReadState());
        applied = synced = st.applied_lsn;
        tail = std::make_unique<journal::JournalTail>(env, vol.journal_dir(), vid, applied + 1);
        continue;
      }
      if (!rs.ok()) {
        LOG_ERROR("mds", "standby %s stops following the journal at lsn %llu: %s (a takeover replays from there)",
                  o.name.c_str(), static_cast<unsigned long long>(tail->next_lsn()), rs.ToString().c_str());
        follow_broken = true;
      }
      std::vector<fs::JournaledOp> ops;
      for (journal::Record& r : recs) {
        if (r.type != fs::kJournalTypeOp) continue;  // as replay does (mds/replay.cc)
        fs::JournaledOp op;
        op.lsn = r.lsn;
        Status ds = fs::DecodeOpRecord(r.payload, &op.rec);
        if (!ds.ok()) {
          LOG_ERROR("mds", "standby %s stops following: record at lsn %llu: %s", o.name.c_str(),
                    static_cast<unsigned long long>(r.lsn), ds.ToString().c_str());
          follow_broken = true;
          break;
        }
        ops.push_back(std::move(op));
      }
      if (!ops.empty()) {
        std::vector<fs::ApplyResult> results;
        const uint64_t apply_start_ns = o.metrics ? env->NowMonotonicNanos() : 0;
        BATON_RETURN_IF_ERROR(fs::ApplyBatch(**store, ops, &results));
        if (o.metrics) o.metrics->ObserveApplyNanos(env->NowMonotonicNanos() - apply_start_ns);
        applied = ops.back().lsn;
        applied_now = ops.size();
      }
    }
    if (o.metrics) NoteStandbyProgress(*o.metrics, applied, have_active ? active.durable_lsn : 0, behind);
    const uint64_t now = env->NowMonotonicNanos();
    if (synced != applied && now - last_sync >= kSyncEveryNs) {
      BATON_RETURN_IF_ERROR((*store)->Sync());
      synced = applied;
      last_sync = now;
    }
    if (now - last_publish >= kPublishEveryNs) {
      last_publish = now;
      StatusOr<volume::Superblock> sb = volume::ReadSuperblock(env, JoinPath(vol.path(), "superblock"));
      uint64_t epoch = sb.ok() ? sb->epoch : vol.superblock().epoch;
      MdsInfo mine;
      mine.address = o.address;
      mine.pid = static_cast<uint64_t>(::getpid());
      mine.role = "standby";
      mine.epoch = epoch;
      mine.applied_lsn = applied;
      mine.durable_lsn = have_active ? active.durable_lsn : 0;
      mine.synced_lsn = synced;
      Status ws = info.Write(mine);
      if (!ws.ok()) LOG_WARN("mds", "cannot publish standby state: %s", ws.ToString().c_str());
      proto::StatusInfo v;
      v.role = proto::Role::kStandby;
      v.epoch = epoch;
      v.applied_lsn = applied;
      v.durable_lsn = mine.durable_lsn;
      // What this standby found to apply when it last looked: the active
      // publishes its durable LSN every heartbeat, so this is the lag as
      // of at most one heartbeat ago.
      v.lag = behind;
      v.address = o.address;
      v.name = o.name;
      v.active_address = have_active ? active.address : "";
      v.mds_addresses = MdsMap(env, vol.path(), uuid, v.active_address, o.address);
      v.volume_id = uuid;
      view->Set(v);
      if (o.metrics) o.metrics->epoch->Set(static_cast<double>(epoch));
    }
    if (applied_now == 0) std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
  }
}

}  // namespace baton::mds
