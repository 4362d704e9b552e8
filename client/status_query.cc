// QueryStatus (one STATUS exchange, no session: `baton status`), the
// deadline-bounded frame read, and the client's watchdog, which probes the
// other MDSs with STATUS while the active leaves a request unanswered.

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "base/log.h"
#include "client/client.h"
#include "client/pending.h"
#include "proto/frame.h"
#include "proto/net.h"

namespace baton::client {

using Clock = std::chrono::steady_clock;

Status ReadFrameBefore(int fd, Clock::time_point deadline, proto::Frame* out) {
  proto::FrameDecoder dec;
  return proto::ReadFrame(fd, &dec, out, deadline);
}

StatusOr<proto::StatusInfo> QueryStatus(const std::string& addr, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  BATON_ASSIGN_OR_RETURN(int fd, proto::ConnectTcp(addr, timeout_ms));
  proto::Frame f;
  Status st = proto::SendFrame(fd, {proto::FrameKind::kStatus, 0, 0, 0, {}});
  if (st.ok()) st = ReadFrameBefore(fd, deadline, &f);
  proto::CloseFd(fd);
  BATON_RETURN_IF_ERROR(st);
  if (f.kind != proto::FrameKind::kStatusReply) return Status::Corruption("expected STATUS_REPLY from " + addr);
  proto::StatusInfo info;
  BATON_RETURN_IF_ERROR(proto::DecodeStatusInfo(f.payload, &info));
  return info;
}

// The watchdog thread: wakes every probe_interval_ms; probes only while a
// request sent on the current connection has waited probe_after_ms.
void Client::WatchdogLoop() {
  const auto interval = std::chrono::milliseconds(std::max<uint32_t>(1, options_.probe_interval_ms));
  std::unique_lock<std::mutex> l(mu_);
  while (!closing_) {
    watchdog_cv_.wait_for(l, interval, [&] { return closing_; });
    if (!closing_ && ProbeDueLocked()) ProbeOthers(l);
  }
}

bool Client::ProbeDueLocked() const {
  if (!connected_ || options_.probe_after_ms < 0) return false;
  const auto limit = std::chrono::milliseconds(options_.probe_after_ms);
  const auto now = Clock::now();
  for (const auto& [rid, p] : pending_) {
    if (p->sent_gen == gen_ && now - p->sent_at >= limit) return true;
  }
  return false;
}

// One probe round, with mu_ released during the STATUS exchanges (the reader
// keeps matching replies). If some other MDS is active with an epoch above
// the session's, it is tried first from now on, and the current connection,
// if it is still the one probed for, is dropped as lost: the reader then
// reconnects and re-sends. Called and returns with l locked.
void Client::ProbeOthers(std::unique_lock<std::mutex>& l) {
  const uint64_t gen = gen_, epoch = epoch_;
  const std::string current = current_addr_;
  std::vector<std::string> others;
  for (const std::string& a : addresses_) {
    if (a != current) others.push_back(a);
  }
  if (others.empty()) return;
  stats_.probe_rounds++;
  l.unlock();
  std::string best;
  uint64_t best_epoch = epoch, seen = 0;
  std::vector<std::string> named;  // addresses the replies name (probed next round)
  for (const std::string& a : others) {
    l.lock();
    const bool stop = closing_;
    l.unlock();
    if (stop) break;
    StatusOr<proto::StatusInfo> s = QueryStatus(a, static_cast<int>(options_.probe_timeout_ms));
    if (!s.ok()) continue;
    l.lock();
    const bool ours = OurVolumeLocked(s->volume_id);
    l.unlock();
    if (!ours) continue;  // an MDS of another volume: its epochs mean nothing here
    seen = std::max(seen, s->epoch);
    named.push_back(s->active_address);
    named.insert(named.end(), s->mds_addresses.begin(), s->mds_addresses.end());
    if (s->role == proto::Role::kActive && s->epoch > best_epoch) {
      best = a;
      best_epoch = s->epoch;
    }
  }
  l.lock();
  max_epoch_seen_ = std::max(max_epoch_seen_, seen);
  LearnLocked(named);
  if (best.empty() || closing_) return;
  preferred_addr_ = best;
  if (!connected_ || gen_ != gen) return;
  LOG_WARN("client", "no reply from %s (epoch %llu) for over %lld ms; %s is active with epoch %llu: switching",
           current.c_str(), static_cast<unsigned long long>(epoch),
           static_cast<long long>(options_.probe_after_ms), best.c_str(),
           static_cast<unsigned long long>(best_epoch));
  stats_.probe_switches++;
  ::shutdown(fd_, SHUT_RDWR);  // the reader sees a lost connection
}

}  // namespace baton::client
