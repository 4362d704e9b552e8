// The client's reader thread: matches replies to callers, and on a lost
// connection reconnects, re-opens the session and re-sends.
#include <sys/socket.h>

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

void Client::ReaderLoop() {
  // Retries start fast (a standby takes over a dead active in tens of
  // milliseconds) and back off to reconnect_interval_ms.
  uint32_t retry_ms = 0;
  for (;;) {
    int fd;
    uint64_t gen;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (closing_) return;
      fd = connected_ ? fd_ : -1;
      gen = gen_;
    }
    if (fd < 0) {
      if (Reconnect()) {
        retry_ms = 0;
      } else {
        retry_ms = std::min(options_.reconnect_interval_ms, std::max<uint32_t>(5, retry_ms * 2));
        std::this_thread::sleep_for(std::chrono::milliseconds(retry_ms));
      }
      continue;
    }
    proto::FrameDecoder dec;
    proto::Frame f;
    Status st;
    while ((st = proto::ReadFrame(fd, &dec, &f)).ok()) {
      if (f.kind == proto::FrameKind::kReply) {
        OnReply(f.request_id, f.payload);
        continue;
      }
      if (f.kind == proto::FrameKind::kError) {
        proto::ErrorBody e;
        if (proto::DecodeErrorBody(f.payload, &e).ok()) st = Status::IOError("MDS error: " + e.message);
      } else {
        st = Status::Corruption("unexpected frame kind " + std::to_string(static_cast<int>(f.kind)));
      }
      break;
    }
    if (st.code() != Code::kClosed) LOG_WARN("client", "connection lost: %s", st.ToString().c_str());
    Disconnect(gen);
  }
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
  // Only this thread installs connections, so fd_ is still fd here.
  std::lock_guard<std::mutex> w(write_mu_);
  std::lock_guard<std::mutex> l(mu_);
  proto::CloseFd(fd);
  fd_ = -1;
  connected_ = false;
  down_since_ = std::chrono::steady_clock::now();
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
