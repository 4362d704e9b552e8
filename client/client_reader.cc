// The read role and the client's reader thread: whoever reads matches
// replies to callers; on a lost connection the reader thread reconnects,
// re-opens the session and re-sends.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "base/log.h"
#include "client/client.h"
#include "client/pending.h"
#include "proto/frame.h"
#include "proto/net.h"

namespace baton::client {

namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

// The reader thread: reconnects after a loss, and reads when no caller will
// (the read role, client.h). While the role is free it also watches the
// connection for the peer closing or resetting it (POLLRDHUP only: a poll
// that asks for no POLLIN is not woken by arriving replies), so an idle
// session notices an MDS restart at once and re-sends its opens (the MDS
// reclaims unlinked files nobody re-opened after its grace period).
void Client::ReaderLoop() {
  // Retries start fast (a standby takes over a dead active in tens of
  // milliseconds) and back off to reconnect_interval_ms.
  uint32_t retry_ms = 0;
  std::unique_lock<std::mutex> l(mu_);
  while (!closing_) {
    if (!connected_) {
      if (reading_) {  // the holder that saw the loss has yet to let go
        WaitBell(l, -1, -1);
        continue;
      }
      l.unlock();
      const bool ok = Reconnect();
      if (ok) {
        retry_ms = 0;
      } else {
        retry_ms = std::min(options_.reconnect_interval_ms, std::max<uint32_t>(5, retry_ms * 2));
        std::this_thread::sleep_for(std::chrono::milliseconds(retry_ms));
      }
      l.lock();
      if (ok) reader_due_ = Clock::now();  // the re-sent requests' replies, unless a caller reads them
      continue;
    }
    if (pending_.empty()) reader_due_ = Clock::time_point::max();
    const auto now = Clock::now();
    const bool busy = reading_ || role_waiters_ > 0;  // someone reads, or is about to
    if (busy || reader_due_ > now) {
      int timeout_ms = -1;
      if (busy) {
        // Park until the role is free again (RoleFreeLocked rings), re-armed
        // from scratch then.
        reader_due_ = Clock::time_point::max();
        reader_parked_ = true;
      } else if (reader_due_ != Clock::time_point::max()) {
        timeout_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(reader_due_ - now).count());
      }
      // While nobody reads, watch for the peer closing the connection (above).
      const bool closed = WaitBell(l, reading_ ? -1 : fd_, timeout_ms);
      reader_parked_ = false;
      if (!closed || reading_ || !connected_) continue;
      // The peer closed or reset it: read what came before, up to the end.
    }
    reader_due_ = Clock::time_point::max();
    reading_ = true;
    const int fd = fd_;
    const uint64_t gen = gen_;
    bool ok;
    do {
      l.unlock();
      ok = ReadOne(fd, gen, Clock::time_point::max()) == ReadResult::kFrame;
      l.lock();
      if (ok) stats_.reader_thread_replies++;
    } while (ok && !closing_ && connected_ && gen_ == gen && role_waiters_ == 0 && !pending_.empty());
    ReleaseReadLocked();
  }
}

// Waits, with l released, until the bell rings, timeout_ms passes (< 0:
// no limit) or, if watch_fd >= 0, that connection is closed or reset by the
// peer or shut down here. True in the last case. Called and returns with l
// locked.
bool Client::WaitBell(std::unique_lock<std::mutex>& l, int watch_fd, int timeout_ms) {
  pollfd fds[2] = {{bell_fd_, POLLIN, 0}, {watch_fd, POLLRDHUP, 0}};
  l.unlock();
  int n = ::poll(fds, watch_fd >= 0 ? 2 : 1, timeout_ms);
  if (n > 0 && (fds[0].revents & POLLIN) != 0) {
    uint64_t v;
    (void)!::read(bell_fd_, &v, sizeof v);
  }
  l.lock();
  return n > 0 && watch_fd >= 0 && (fds[1].revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

// Wakes the reader thread out of WaitBell. Called with mu_ held.
void Client::RingBellLocked() {
  const uint64_t one = 1;
  (void)!::write(bell_fd_, &one, sizeof one);
}

// Reads for p's caller, holding the read role, until p is answered, the
// connection or the client goes, or `until` passes (a caller with a
// deadline). Called and returns with l locked.
void Client::ReadForCallerLocked(std::unique_lock<std::mutex>& l, const std::shared_ptr<Pending>& p,
                                 Clock::time_point until) {
  reading_ = true;
  const int fd = fd_;
  const uint64_t gen = gen_;
  while (!p->done && !closing_ && connected_ && gen_ == gen) {
    l.unlock();
    const ReadResult r = ReadOne(fd, gen, until);
    l.lock();
    if (r != ReadResult::kFrame) break;
  }
  ReleaseReadLocked();
}

// Hands the read role on: to a waiting caller if there is one (should they
// all leave without reading, WaitReply calls RoleFreeLocked), else to the
// reader thread (RoleFreeLocked).
void Client::ReleaseReadLocked() {
  reading_ = false;
  if (closing_) {
    cv_.notify_all();  // Close waits for the role to be let go
  } else if (role_waiters_ > 0 && connected_) {
    cv_.notify_all();
  } else {
    RoleFreeLocked();
  }
}

// Called whenever the read role may have become free with no caller
// waiting to take it (a release, a Post, a waiter leaving, re-sends). The
// reader thread must then reconnect after a loss, read what is still due
// (after kReadHandOff: a caller that comes meanwhile reads it itself), and
// watch the connection for the peer closing it; it is woken only if it
// parked while the role was taken, so a lone caller's calls ring nothing.
void Client::RoleFreeLocked() {
  if (reading_) return;  // its holder calls this again when it lets go
  if (!connected_) {
    RingBellLocked();  // to reconnect
  } else if (role_waiters_ > 0) {
    return;  // a waiting caller takes it
  } else if (!pending_.empty()) {
    WakeReaderLocked(kReadHandOff);
  } else if (reader_parked_) {
    RingBellLocked();
  }
}

// The reader thread takes the read role after delay unless someone has.
void Client::WakeReaderLocked(Clock::duration delay) {
  const auto due = Clock::now() + delay;
  if (due >= reader_due_) return;
  reader_due_ = due;
  RingBellLocked();
}

Client::ReadResult Client::ReadOne(int fd, uint64_t gen, Clock::time_point until) {
  proto::Frame f;
  Status st = proto::ReadFrame(fd, &decoder_, &f, until);
  if (st.code() == Code::kTimeout) return ReadResult::kTimedOut;
  if (st.ok()) {
    if (f.kind == proto::FrameKind::kReply) {
      OnReply(f.request_id, f.payload);
      return ReadResult::kFrame;
    }
    if (f.kind == proto::FrameKind::kError) {
      proto::ErrorBody e;
      st = proto::DecodeErrorBody(f.payload, &e).ok() ? Status::IOError("MDS error: " + e.message)
                                                       : Status::Corruption("undecodable ERROR frame");
    } else {
      st = Status::Corruption("unexpected frame kind " + std::to_string(static_cast<int>(f.kind)));
    }
  }
  if (st.code() != Code::kClosed) LOG_WARN("client", "connection lost: %s", st.ToString().c_str());
  Disconnect(gen);
  return ReadResult::kLost;
}

void Client::OnReply(uint64_t request_id, const std::string& payload) {
  fs::Reply rep;
  Status st = fs::DecodeReply(payload, &rep);
  std::lock_guard<std::mutex> l(mu_);
  auto it = pending_.find(request_id);
  if (it == pending_.end()) return;  // a duplicate answer, or a timed-out call
  if (!st.ok()) {
    LOG_WARN("client", "undecodable reply to request %llu: %s", static_cast<unsigned long long>(request_id),
             st.ToString().c_str());
    rep = fs::Reply{};
    rep.err = EIO;
  }
  Pending& p = *it->second;
  if (p.req.op == fs::Op::kOpen && rep.err != 0) {
    // Undo this open's entry unless a later open/release has replaced it, or
    // the inode was open before (a re-sent open failing means it is gone).
    auto o = opens_.find(p.req.ino);
    if (o != opens_.end() && o->second.request_id == p.request_id && (!p.was_open || p.internal)) opens_.erase(o);
  }
  if (fs::IsCreateThatOpened(p.req, rep)) {
    // A create that opened its file: now open like any kOpen (before the
    // caller can send the release).
    NoteOpenLocked(p.request_id, OpenRequest(rep.attr.ino));
  }
  p.reply = std::move(rep);
  p.done = true;
  pending_.erase(it);
  cv_.notify_all();
}

void Client::Disconnect(uint64_t gen) {
  int fd;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (gen != gen_ || !connected_) return;
    fd = fd_;
    ::shutdown(fd, SHUT_RDWR);  // unblocks a writer stuck in send
  }
  // Only the reader thread installs connections, and only once this (the
  // holder of the read role) let go: fd_ is still fd here.
  std::lock_guard<std::mutex> w(write_mu_);
  std::lock_guard<std::mutex> l(mu_);
  proto::CloseFd(fd);
  fd_ = -1;
  connected_ = false;
  down_since_ = std::chrono::steady_clock::now();
  RingBellLocked();  // to reconnect, once the read role is let go
}

// Queues a re-open of every open inode, then collects every unanswered
// request: re-opens first, then the rest in request-id (original) order.
std::vector<std::shared_ptr<Client::Pending>> Client::CollectResendLocked() {
  std::vector<std::shared_ptr<Pending>> opens, rest;
  uint64_t first_new = next_request_id_;
  std::vector<fs::Request> reopen;
  for (const auto& [ino, r] : opens_) {
    // An inode whose only open is still unanswered needs no hold: that open
    // is re-sent below with the caller's credentials, and if it fails, its
    // undo (OnReply) must find its own entry (a hold would have replaced it
    // and stayed open on the MDS for the life of the mount).
    auto pending = pending_.find(r.request_id);
    if (pending != pending_.end() && !pending->second->internal && !pending->second->was_open) continue;
    reopen.push_back(r.req);
  }
  for (const fs::Request& req : reopen) opens.push_back(AddPendingLocked(req, true));
  for (const auto& [rid, p] : pending_) {
    if (rid < first_new) rest.push_back(p);
  }
  stats_.resent_opens += opens.size();
  stats_.resent_requests += rest.size();
  opens.insert(opens.end(), rest.begin(), rest.end());
  const auto now = std::chrono::steady_clock::now();
  for (auto& p : opens) {
    p->sent_gen = gen_;
    p->sent_at = now;
  }
  return opens;
}

// Connects, then lets a resender thread install the connection and re-send;
// returns once it is installed, so this (the reader) thread reads the replies
// while the re-sends are still going out.
bool Client::Reconnect() {
  Conn conn;
  if (!ConnectOnce(&conn).ok()) return false;
  if (resender_.joinable()) resender_.join();  // the last one ended: its connection is gone
  uint64_t gen;
  {
    std::lock_guard<std::mutex> l(mu_);
    gen = gen_;
  }
  resender_ = std::thread([this, conn] { Resend(conn); });
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return gen_ != gen || closing_; });
  return true;
}

// Holds write_mu_ from install to the last re-send: calls made meanwhile wait
// and go out after every re-sent request.
void Client::Resend(Conn conn) {
  const int fd = conn.fd;
  std::lock_guard<std::mutex> w(write_mu_);
  Install(conn, false);
  std::vector<std::shared_ptr<Pending>> resend;
  uint64_t oldest = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closing_ || fd_ != fd) return;
    resend = CollectResendLocked();
    oldest = pending_.empty() ? 0 : pending_.begin()->first;
    // The re-opens' replies: nobody waits for them (the reader thread may
    // have looked at pending_ before they were added).
    RoleFreeLocked();
    LOG_INFO("client", "session %016llx reconnected to %s (epoch %llu); re-sending %zu requests",
             static_cast<unsigned long long>(session_id_), conn.addr.c_str(),
             static_cast<unsigned long long>(epoch_), resend.size());
  }
  for (const auto& p : resend) {
    if (!SendLocked(fd, *p, oldest).ok()) {
      ::shutdown(fd, SHUT_RDWR);  // the reader notices and reconnects again
      break;
    }
  }
}

}  // namespace baton::client
