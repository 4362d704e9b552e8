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

namespace {

// One standby's following of the journal: the loop of RunStandby, in steps.
class Follower {
 public:
  Follower(volume::Volume& vol, Election& election, std::unique_ptr<fs::MetaStore>* store, MdsView* view,
           const StandbyOptions& o)
      : vol_(vol),
        election_(election),
        store_(store),
        view_(view),
        o_(o),
        env_(vol.env()),
        vid_(vol.superblock().volume_id),
        uuid_(volume::FormatVolumeId(vid_)),
        info_(env_, vol.path(), o.name, uuid_) {}

  StatusOr<std::unique_ptr<Lease>> Run();

 private:
  void StartAt(uint64_t applied);  // follows from applied + 1
  void FindActive();
  // Applies what the active has made durable, up to one batch; re-seeds the
  // store (and sets *reseeded) when the journal no longer holds its next LSN.
  StatusOr<size_t> FollowOnce(bool* reseeded);
  Status MaybeSync();
  void MaybePublish();

  volume::Volume& vol_;
  Election& election_;
  std::unique_ptr<fs::MetaStore>* store_;
  MdsView* view_;
  const StandbyOptions& o_;
  Env* env_;
  const journal::VolumeId vid_;
  const std::string uuid_;
  MdsInfoWriter info_;
  std::unique_ptr<journal::JournalTail> tail_;
  uint64_t applied_ = 0, synced_ = 0;
  uint64_t last_sync_ = 0, last_publish_ = 0;
  bool follow_broken_ = false;
  std::string last_holder_ = "?";
  MdsInfo active_;  // the active's published state, when have_active_
  bool have_active_ = false;
  uint64_t behind_ = 0;
};

void Follower::StartAt(uint64_t applied) {
  applied_ = synced_ = applied;
  tail_ = std::make_unique<journal::JournalTail>(env_, vol_.journal_dir(), vid_, applied + 1);
}

StatusOr<std::unique_ptr<Lease>> Follower::Run() {
  BATON_ASSIGN_OR_RETURN(fs::StoreState st, (*store_)->ReadState());
  StartAt(st.applied_lsn);
  last_sync_ = env_->NowMonotonicNanos();
  LOG_INFO("mds", "standby %s: following the journal from lsn %llu (active: %s)", o_.name.c_str(),
           static_cast<unsigned long long>(applied_ + 1), election_.DescribeHolder().c_str());
  for (;;) {
    if (o_.stop != nullptr && o_.stop->load()) return std::unique_ptr<Lease>();
    BATON_ASSIGN_OR_RETURN(std::unique_ptr<Lease> lease, election_.Poll());
    if (lease) return lease;
    FindActive();
    bool reseeded = false;
    BATON_ASSIGN_OR_RETURN(size_t applied_now, FollowOnce(&reseeded));
    if (reseeded) continue;
    if (o_.metrics) NoteStandbyProgress(*o_.metrics, applied_, have_active_ ? active_.durable_lsn : 0, behind_);
    BATON_RETURN_IF_ERROR(MaybeSync());
    MaybePublish();
    if (applied_now == 0) std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
  }
}

void Follower::FindActive() {
  const std::string holder = election_.HolderName();
  if (holder != last_holder_) {
    LOG_INFO("mds", "standby %s: the active MDS is %s", o_.name.c_str(), holder.empty() ? "unknown" : holder.c_str());
    last_holder_ = holder;
  }
  have_active_ = false;
  active_ = MdsInfo{};
  if (!holder.empty()) {
    StatusOr<MdsInfo> i = ReadMdsInfo(env_, vol_.path(), holder, uuid_);
    if (i.ok() && i->role == "active") {
      active_ = *i;
      have_active_ = true;
    }
  }
  behind_ = have_active_ && active_.durable_lsn > applied_ ? active_.durable_lsn - applied_ : 0;
}

StatusOr<size_t> Follower::FollowOnce(bool* reseeded) {
  if (!have_active_ || active_.durable_lsn <= applied_ || follow_broken_) return size_t{0};
  std::vector<journal::Record> recs;
  Status rs = tail_->ReadUpTo(active_.durable_lsn, active_.epoch, kFollowBatchBytes, &recs);
  if (rs.IsNotFound()) {
    LOG_WARN("mds", "standby %s: %s; re-seeding the store", o_.name.c_str(), rs.message().c_str());
    BATON_ASSIGN_OR_RETURN(*store_, ReseedOwnStore(vol_, o_.name, std::move(*store_)));
    BATON_ASSIGN_OR_RETURN(fs::StoreState st, (*store_)->ReadState());
    StartAt(st.applied_lsn);
    *reseeded = true;
    return size_t{0};
  }
  if (!rs.ok()) {
    LOG_ERROR("mds", "standby %s stops following the journal at lsn %llu: %s (a takeover replays from there)",
              o_.name.c_str(), static_cast<unsigned long long>(tail_->next_lsn()), rs.ToString().c_str());
    follow_broken_ = true;
  }
  std::vector<fs::JournaledOp> ops;
  for (journal::Record& r : recs) {
    if (r.type != fs::kJournalTypeOp) continue;  // as replay does (mds/replay.cc)
    fs::JournaledOp op;
    op.lsn = r.lsn;
    Status ds = fs::DecodeOpRecord(r.payload, &op.rec);
    if (!ds.ok()) {
      LOG_ERROR("mds", "standby %s stops following: record at lsn %llu: %s", o_.name.c_str(),
                static_cast<unsigned long long>(r.lsn), ds.ToString().c_str());
      follow_broken_ = true;
      break;
    }
    ops.push_back(std::move(op));
  }
  if (ops.empty()) return size_t{0};
  std::vector<fs::ApplyResult> results;
  const uint64_t apply_start_ns = o_.metrics ? env_->NowMonotonicNanos() : 0;
  BATON_RETURN_IF_ERROR(fs::ApplyBatch(**store_, ops, &results));
  if (o_.metrics) o_.metrics->ObserveApplyNanos(env_->NowMonotonicNanos() - apply_start_ns);
  applied_ = ops.back().lsn;
  return ops.size();
}

Status Follower::MaybeSync() {
  const uint64_t now = env_->NowMonotonicNanos();
  if (synced_ == applied_ || now - last_sync_ < kSyncEveryNs) return Status::Ok();
  BATON_RETURN_IF_ERROR((*store_)->Sync());
  synced_ = applied_;
  last_sync_ = now;
  return Status::Ok();
}

// Publishes this standby's state (VOLUME/mds/NAME/info, and the view its
// listener answers STATUS and HELLO from) every kPublishEveryNs.
void Follower::MaybePublish() {
  const uint64_t now = env_->NowMonotonicNanos();
  if (now - last_publish_ < kPublishEveryNs) return;
  last_publish_ = now;
  StatusOr<volume::Superblock> sb = volume::ReadSuperblock(env_, JoinPath(vol_.path(), "superblock"));
  uint64_t epoch = sb.ok() ? sb->epoch : vol_.superblock().epoch;
  MdsInfo mine;
  mine.address = o_.address;
  mine.pid = static_cast<uint64_t>(::getpid());
  mine.role = "standby";
  mine.epoch = epoch;
  mine.applied_lsn = applied_;
  mine.durable_lsn = have_active_ ? active_.durable_lsn : 0;
  mine.synced_lsn = synced_;
  Status ws = info_.Write(mine);
  if (!ws.ok()) LOG_WARN("mds", "cannot publish standby state: %s", ws.ToString().c_str());
  proto::StatusInfo v;
  v.role = proto::Role::kStandby;
  v.epoch = epoch;
  v.applied_lsn = applied_;
  v.durable_lsn = mine.durable_lsn;
  // What this standby found to apply when it last looked: the active
  // publishes its durable LSN every heartbeat, so this is the lag as of at
  // most one heartbeat ago.
  v.lag = behind_;
  v.address = o_.address;
  v.name = o_.name;
  v.active_address = have_active_ ? active_.address : "";
  v.mds_addresses = MdsMap(env_, vol_.path(), uuid_, v.active_address, o_.address);
  v.volume_id = uuid_;
  view_->Set(v);
  if (o_.metrics) o_.metrics->epoch->Set(static_cast<double>(epoch));
}

}  // namespace

StatusOr<std::unique_ptr<Lease>> RunStandby(volume::Volume& vol, Election& election,
                                            std::unique_ptr<fs::MetaStore>* store, MdsView* view,
                                            const StandbyOptions& o) {
  return Follower(vol, election, store, view, o).Run();
}

}  // namespace baton::mds
