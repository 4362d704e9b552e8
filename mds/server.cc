#include "mds/server.h"

#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <sys/time.h>

#include <cerrno>
#include <condition_variable>
#include <chrono>
#include <deque>
#include <thread>

#include "base/coding.h"
#include "base/log.h"
#include "proto/net.h"

namespace baton::mds {

namespace {
constexpr uint64_t kMaxQueuedOutputBytes = 64ull << 20;  // a connection that falls further behind is closed
constexpr uint32_t kHelloTimeoutMs = 10000;             // a connection must say HELLO within this
constexpr uint32_t kSendTimeoutMs = 10000;              // one blocked send on the writer thread at most
constexpr size_t kMaxConnections = 4096;

void SetSocketTimeout(int fd, int opt, uint32_t timeout_ms) {
  timeval tv{static_cast<time_t>(timeout_ms / 1000), static_cast<suseconds_t>((timeout_ms % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv);
}
}  // namespace

// One client connection. The connection thread reads frames. A frame is sent
// at once by the thread that has it (the sequencer's reply thread for a
// mutation's reply, the connection thread for a query's; mutation replies and
// query answers are not ordered with each other, each carries its request
// id) with a send that never blocks, when
// nothing is queued or being written and the gate allows; otherwise, and for
// whatever a full socket buffer did not take, it goes through out to the
// writer thread. So no thread but the writer (above all not the sequencer)
// ever blocks on this socket, and a reply costs no thread hand-off in the
// common case (it cost ~20 us per reply on 2 cores, on the sequencer's path).
struct MdsServer::Conn {
  int fd = -1;
  const std::function<bool()>* may_send = nullptr;  // the server's gate (outlives every Conn)
  std::string peer;
  uint64_t session_id = 0;  // 0 until HELLO; only the connection thread touches it
  std::atomic<bool> finished{false};
  std::thread thread;
  std::thread writer;

  // Held by the connection thread while it handles a request, and by a HELLO
  // that supersedes this connection: once superseded is set, this connection
  // submits nothing more (a late frame still buffered on it is dropped).
  std::mutex submit_mu;
  bool superseded = false;  // GUARDED_BY(submit_mu)

  std::mutex out_mu;
  std::condition_variable out_cv;
  std::deque<std::string> out;  // GUARDED_BY(out_mu): encoded frames not yet written
  uint64_t out_bytes = 0;       // GUARDED_BY(out_mu)
  bool out_closed = false;      // GUARDED_BY(out_mu): no more frames accepted
  bool fd_closed = false;       // GUARDED_BY(out_mu): fd is closed and must not be used
  bool writing = false;         // GUARDED_BY(out_mu): the writer is sending a frame

  bool MaySend() const { return may_send == nullptr || !*may_send || (*may_send)(); }

  // A send that never blocks, under out_mu: the bytes the socket did not
  // take stay in *bytes; false on a socket error (the connection is closed).
  bool TrySendNow(std::string* bytes) {
    ssize_t n;
    do {
      n = ::send(fd, bytes->data(), bytes->size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n >= 0) {
      bytes->erase(0, static_cast<size_t>(n));
      return true;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    out_closed = true;  // as the writer does on a failed send
    out.clear();
    out_bytes = 0;
    ::shutdown(fd, SHUT_RDWR);
    out_cv.notify_all();
    return false;
  }

  // Sends f now if it can without blocking, else queues (the rest of) it for
  // the writer thread.
  Status Send(const proto::Frame& f) {
    std::string bytes = proto::EncodeFrame(f);
    std::lock_guard<std::mutex> l(out_mu);
    if (out_closed) return Status::Closed("connection closed");
    if (out.empty() && !writing && MaySend()) {
      if (!TrySendNow(&bytes)) return Status::Closed("connection closed: send failed");
      if (bytes.empty()) return Status::Ok();
    }
    if (out_bytes + bytes.size() > kMaxQueuedOutputBytes) {
      LOG_WARN("mds", "closing connection from %s: more than %llu bytes of replies queued (the client does not read)",
               peer.c_str(), static_cast<unsigned long long>(kMaxQueuedOutputBytes));
      out_closed = true;
      ::shutdown(fd, SHUT_RDWR);  // the connection thread ends; the client reconnects and re-sends
      out_cv.notify_all();
      return Status::Closed("connection closed: output queue full");
    }
    out_bytes += bytes.size();
    out.push_back(std::move(bytes));
    out_cv.notify_all();
    return Status::Ok();
  }
  void WriterLoop() {
    std::unique_lock<std::mutex> l(out_mu);
    for (;;) {
      out_cv.wait(l, [this] { return out_closed || !out.empty(); });
      if (out.empty()) return;  // closed and drained
      std::string bytes = std::move(out.front());
      out.pop_front();
      writing = true;
      l.unlock();
      while (!MaySend()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      Status st = proto::WriteAll(fd, bytes);
      l.lock();
      writing = false;
      out_bytes -= bytes.size();
      if (!st.ok()) {
        out_closed = true;
        out.clear();
        out_bytes = 0;
        ::shutdown(fd, SHUT_RDWR);
        return;
      }
    }
  }
  void Shutdown() {
    std::lock_guard<std::mutex> l(out_mu);
    if (!fd_closed) ::shutdown(fd, SHUT_RDWR);
  }
  // Lets the writer flush what is queued, then closes the socket.
  void Close() {
    {
      std::lock_guard<std::mutex> l(out_mu);
      out_closed = true;
      out_cv.notify_all();
    }
    if (writer.joinable()) writer.join();
    std::lock_guard<std::mutex> l(out_mu);
    if (fd_closed) return;
    proto::CloseFd(fd);
    fd_closed = true;
  }
};

MdsServer::MdsServer(Sequencer* sequencer, OpenTable* opens, const ServerOptions& options)
    : sequencer_(sequencer), opens_(opens), options_(options) {}

MdsServer::~MdsServer() { Stop(); }

Status MdsServer::Start() {
  if (options_.listen_fd >= 0) {
    listen_fd_ = options_.listen_fd;
    address_ = options_.bound_address;
    owns_listen_fd_ = false;
  } else {
    BATON_ASSIGN_OR_RETURN(listen_fd_, proto::ListenTcp(options_.listen_addr, &address_));
  }
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return Status::Ok();
}

void MdsServer::Stop() {
  stopping_ = true;
  if (accept_thread_.joinable()) accept_thread_.join();
  if (owns_listen_fd_) proto::CloseFd(listen_fd_);
  listen_fd_ = -1;
  std::vector<std::shared_ptr<Conn>> conns;
  {
    std::lock_guard<std::mutex> l(mu_);
    conns.swap(conns_);
  }
  for (auto& c : conns) c->Shutdown();
  for (auto& c : conns) {
    if (c->thread.joinable()) c->thread.join();
  }
}

std::vector<std::string> MdsServer::MdsMap() const {
  if (options_.mds_map) return options_.mds_map();
  return {address_};
}

uint64_t MdsServer::session_count() const {
  std::lock_guard<std::mutex> l(mu_);
  return sessions_.size();
}

void MdsServer::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    ReapFinished();
    if (r <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EINTR && errno != EAGAIN) LOG_WARN("mds", "accept failed (errno %d)", errno);
      continue;
    }
    proto::SetNoDelay(fd);  // replies are small frames: never hold one back for Nagle
    auto c = std::make_shared<Conn>();
    c->fd = fd;
    c->may_send = &options_.may_send;
    c->peer = proto::PeerName(fd);
    std::lock_guard<std::mutex> l(mu_);
    if (conns_.size() >= kMaxConnections) {
      LOG_WARN("mds", "refusing connection from %s: %zu connections open", c->peer.c_str(), conns_.size());
      proto::CloseFd(fd);
      continue;
    }
    SetSocketTimeout(fd, SO_RCVTIMEO, kHelloTimeoutMs);  // cleared by HELLO
    SetSocketTimeout(fd, SO_SNDTIMEO, kSendTimeoutMs);
    conns_.push_back(c);
    c->writer = std::thread([c] { c->WriterLoop(); });
    c->thread = std::thread([this, c] { Serve(c); });
  }
}

void MdsServer::ReapFinished() {
  std::vector<std::shared_ptr<Conn>> done;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (size_t i = 0; i < conns_.size();) {
      if (conns_[i]->finished) {
        done.push_back(std::move(conns_[i]));
        conns_[i] = std::move(conns_.back());
        conns_.pop_back();
      } else {
        i++;
      }
    }
  }
  for (auto& c : done) c->thread.join();
  std::lock_guard<std::mutex> l(mu_);
  for (auto& c : done) ForgetConnLocked(c);
}

void MdsServer::ForgetConnLocked(const std::shared_ptr<Conn>& c) {
  auto it = session_conns_.find(c->session_id);
  if (it != session_conns_.end() && it->second.lock() == c) session_conns_.erase(it);
  NoteSessionsLocked();
}

// Sessions with a connection: session_conns_ holds each session's newest
// connection until it is reaped.
void MdsServer::NoteSessionsLocked() {
  if (options_.metrics) options_.metrics->sessions->Set(static_cast<double>(session_conns_.size()));
}

void MdsServer::Serve(std::shared_ptr<Conn> c) {
  proto::FrameDecoder dec;
  proto::Frame f;
  for (;;) {
    Status st = proto::ReadFrame(c->fd, &dec, &f);
    if (st.ok()) st = HandleFrame(c, f);
    if (st.ok()) continue;
    if (st.code() == Code::kClosed || stopping_) {
      LOG_DEBUG("mds", "connection from %s closed: %s", c->peer.c_str(), st.ToString().c_str());
    } else {
      LOG_WARN("mds", "closing connection from %s: %s", c->peer.c_str(), st.ToString().c_str());
      proto::ErrorBody e{static_cast<uint32_t>(st.code()), st.message()};
      c->Send({proto::FrameKind::kError, 0, 0, 0, proto::EncodeErrorBody(e)}).PermitUnchecked();
    }
    break;
  }
  c->Close();
  c->finished = true;
}

Status MdsServer::HandleFrame(const std::shared_ptr<Conn>& c, const proto::Frame& f) {
  switch (f.kind) {
    case proto::FrameKind::kHello: return HandleHello(c, f);
    case proto::FrameKind::kRequest: return HandleRequest(c, f);
    case proto::FrameKind::kStatus: return SendStatus(c);
    default:
      return Status::InvalidArgument("unexpected frame kind " + std::to_string(static_cast<int>(f.kind)));
  }
}

uint64_t MdsServer::NewSessionId() {
  uint64_t id = 0;
  while (id == 0) {
    if (::getrandom(&id, sizeof id, 0) != static_cast<ssize_t>(sizeof id)) id = 0;
  }
  return id;
}

Status MdsServer::HandleHello(const std::shared_ptr<Conn>& c, const proto::Frame& f) {
  if (c->session_id != 0) return Status::InvalidArgument("second HELLO on one connection");
  proto::Hello h;
  BATON_RETURN_IF_ERROR(proto::DecodeHello(f.payload, &h));
  if (h.protocol_version != proto::kProtocolVersion) {
    return Status::Unsupported("protocol version " + std::to_string(h.protocol_version) +
                               " not supported; this MDS speaks version " +
                               std::to_string(proto::kProtocolVersion));
  }
  if (h.known_epoch > options_.epoch) {
    LOG_WARN("mds", "client %s (%s) has seen epoch %llu; this MDS serves epoch %llu: checking whether it was deposed",
             c->peer.c_str(), h.client_name.c_str(), static_cast<unsigned long long>(h.known_epoch),
             static_cast<unsigned long long>(options_.epoch));
    if (options_.on_newer_epoch) options_.on_newer_epoch();
    return Status::Fenced("this MDS serves epoch " + std::to_string(options_.epoch) + " but the client has seen epoch " +
                          std::to_string(h.known_epoch) + ": a newer active exists");
  }
  c->session_id = h.session_id != 0 ? h.session_id : NewSessionId();
  SetSocketTimeout(c->fd, SO_RCVTIMEO, 0);
  SupersedeOlderConns(c);
  LOG_INFO("mds", "session %016llx %s from %s (%s)", static_cast<unsigned long long>(c->session_id),
           h.session_id != 0 ? "re-opened" : "opened", c->peer.c_str(), h.client_name.c_str());
  proto::HelloReply r;
  r.accepted_version = proto::kProtocolVersion;
  r.session_id = c->session_id;
  r.epoch = options_.epoch;
  r.role = proto::Role::kActive;
  r.durable_lsn = sequencer_->durable_lsn();
  r.mds_addresses = MdsMap();
  r.volume_id = options_.volume_id;
  return c->Send({proto::FrameKind::kHelloReply, 0, 0, 0, proto::EncodeHelloReply(r)});
}

// A HELLO re-opening a session makes every older connection of the session
// stale: shut it down, and make sure its thread submits nothing more (a late
// copy of a request still buffered on it must not be applied again).
void MdsServer::SupersedeOlderConns(const std::shared_ptr<Conn>& c) {
  std::shared_ptr<Conn> old;
  {
    std::lock_guard<std::mutex> l(mu_);
    sessions_.insert(c->session_id);
    std::weak_ptr<Conn>& slot = session_conns_[c->session_id];
    old = slot.lock();
    slot = c;
    NoteSessionsLocked();
  }
  if (!old || old == c) return;
  LOG_INFO("mds", "session %016llx: closing its older connection from %s",
           static_cast<unsigned long long>(c->session_id), old->peer.c_str());
  {
    std::lock_guard<std::mutex> l(old->submit_mu);  // waits for a request being handled
    old->superseded = true;
  }
  old->Shutdown();
}

Status MdsServer::SendStatus(const std::shared_ptr<Conn>& c) {
  proto::StatusInfo s;
  s.role = proto::Role::kActive;
  s.epoch = options_.epoch;
  s.applied_lsn = sequencer_->applied_lsn();
  s.durable_lsn = sequencer_->durable_lsn();
  s.sessions = session_count();
  s.address = address_;
  s.name = options_.name;
  s.active_address = address_;
  s.mds_addresses = MdsMap();
  s.volume_id = options_.volume_id;
  return c->Send({proto::FrameKind::kStatusReply, 0, 0, 0, proto::EncodeStatusInfo(s)});
}

Status MdsServer::HandleRequest(const std::shared_ptr<Conn>& c, const proto::Frame& f) {
  if (c->session_id == 0) return Status::InvalidArgument("request before HELLO");
  std::lock_guard<std::mutex> l(c->submit_mu);
  if (c->superseded) return Status::Closed("connection superseded by a newer one of its session");
  uint64_t oldest = 0;
  std::string_view body;
  BATON_RETURN_IF_ERROR(proto::SplitRequestPayload(f.payload, &oldest, &body));
  Submission s;
  BATON_RETURN_IF_ERROR(fs::DecodeRequest(body, &s.req));
  if (options_.metrics) options_.metrics->CountOp(s.req.op);
  uint16_t opcode = static_cast<uint16_t>(s.req.op);
  uint64_t rid = f.request_id;
  std::weak_ptr<Conn> weak = c;
  auto reply = [weak, rid, opcode](const fs::Reply& rep) {
    if (auto conn = weak.lock()) {
      std::string payload = fs::EncodeReply(rep);
      if (payload.size() > proto::kMaxPayloadBytes) {  // e.g. a huge xattr list
        fs::Reply too_big;
        too_big.err = E2BIG;
        payload = fs::EncodeReply(too_big);
      }
      conn->Send({proto::FrameKind::kReply, opcode, 0, rid, std::move(payload)}).PermitUnchecked();
    }
  };
  if (!fs::IsKnownOp(s.req.op) || fs::IsInternalOp(s.req.op)) {
    fs::Reply rep;
    rep.err = fs::IsInternalOp(s.req.op) ? EPERM : ENOSYS;
    reply(rep);
    return Status::Ok();
  }
  if (s.req.op == fs::Op::kOpen) {
    reply(HandleOpen(c->session_id, s.req));
    return Status::Ok();
  }
  if (s.req.op == fs::Op::kRelease) {
    if (opens_->Release(c->session_id, s.req.ino)) sequencer_->NoteReleased(s.req.ino);
    reply(fs::Reply{});
    return Status::Ok();
  }
  if (fs::IsQuery(s.req.op)) {
    reply(sequencer_->Query(s.req));
    return Status::Ok();
  }
  s.session_id = c->session_id;
  s.request_id = rid;
  s.oldest_unreplied = oldest;
  s.reply = std::move(reply);
  sequencer_->Submit(std::move(s));
  return Status::Ok();
}

// Registers the open first, then checks the inode: a reclaim can then never
// slip in between (OpenTable::TryMarkReclaiming sees the registration, or the
// registration fails and so does the open).
fs::Reply MdsServer::HandleOpen(uint64_t session_id, const fs::Request& req) {
  bool was_open = opens_->Holds(session_id, req.ino);
  if (!opens_->Open(session_id, req.ino)) {
    fs::Reply gone;
    gone.err = ENOENT;  // being reclaimed: unlinked and closed everywhere
    return gone;
  }
  fs::Reply rep = sequencer_->Query(req);
  if (rep.err != 0 && !was_open) {
    if (opens_->Release(session_id, req.ino)) sequencer_->NoteReleased(req.ino);
  }
  return rep;
}

}  // namespace baton::mds
