#include "mds/server.h"

#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <cerrno>

#include "base/coding.h"
#include "base/log.h"
#include "proto/net.h"

namespace baton::mds {

struct MdsServer::Conn {
  int fd = -1;
  std::string peer;
  uint64_t session_id = 0;  // 0 until HELLO; only the connection thread touches it
  std::mutex write_mu;
  bool closed = false;  // GUARDED_BY(write_mu): fd is closed and must not be used
  std::atomic<bool> finished{false};
  std::thread thread;

  Status Send(const proto::Frame& f) {
    std::string bytes = proto::EncodeFrame(f);
    std::lock_guard<std::mutex> l(write_mu);
    if (closed) return Status::Closed("connection closed");
    return proto::WriteAll(fd, bytes);
  }
  void Shutdown() {
    std::lock_guard<std::mutex> l(write_mu);
    if (!closed) ::shutdown(fd, SHUT_RDWR);
  }
  void Close() {
    std::lock_guard<std::mutex> l(write_mu);
    if (closed) return;
    proto::CloseFd(fd);
    closed = true;
  }
};

MdsServer::MdsServer(fs::MetaStore* store, Sequencer* sequencer, OpenTable* opens, const ServerOptions& options)
    : store_(store), sequencer_(sequencer), opens_(opens), options_(options) {}

MdsServer::~MdsServer() { Stop(); }

Status MdsServer::Start() {
  BATON_ASSIGN_OR_RETURN(listen_fd_, proto::ListenTcp(options_.listen_addr, &address_));
  if (options_.mds_addresses.empty()) options_.mds_addresses.push_back(address_);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return Status::Ok();
}

void MdsServer::Stop() {
  stopping_ = true;
  if (accept_thread_.joinable()) accept_thread_.join();
  proto::CloseFd(listen_fd_);
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
    auto c = std::make_shared<Conn>();
    c->fd = fd;
    c->peer = proto::PeerName(fd);
    std::lock_guard<std::mutex> l(mu_);
    conns_.push_back(c);
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
  c->session_id = h.session_id != 0 ? h.session_id : NewSessionId();
  {
    std::lock_guard<std::mutex> l(mu_);
    sessions_.insert(c->session_id);
  }
  LOG_INFO("mds", "session %016llx %s from %s (%s)", static_cast<unsigned long long>(c->session_id),
           h.session_id != 0 ? "re-opened" : "opened", c->peer.c_str(), h.client_name.c_str());
  proto::HelloReply r;
  r.accepted_version = proto::kProtocolVersion;
  r.session_id = c->session_id;
  r.epoch = options_.epoch;
  r.role = proto::Role::kActive;
  r.durable_lsn = sequencer_->durable_lsn();
  r.mds_addresses = options_.mds_addresses;
  return c->Send({proto::FrameKind::kHelloReply, 0, 0, 0, proto::EncodeHelloReply(r)});
}

Status MdsServer::SendStatus(const std::shared_ptr<Conn>& c) {
  proto::StatusInfo s;
  s.role = proto::Role::kActive;
  s.epoch = options_.epoch;
  s.applied_lsn = sequencer_->applied_lsn();
  s.durable_lsn = sequencer_->durable_lsn();
  s.sessions = session_count();
  s.address = address_;
  return c->Send({proto::FrameKind::kStatusReply, 0, 0, 0, proto::EncodeStatusInfo(s)});
}

Status MdsServer::HandleRequest(const std::shared_ptr<Conn>& c, const proto::Frame& f) {
  if (c->session_id == 0) return Status::InvalidArgument("request before HELLO");
  uint64_t oldest = 0;
  std::string_view body;
  BATON_RETURN_IF_ERROR(proto::SplitRequestPayload(f.payload, &oldest, &body));
  Submission s;
  BATON_RETURN_IF_ERROR(fs::DecodeRequest(body, &s.req));
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
  if (!fs::IsKnownOp(s.req.op) || s.req.op == fs::Op::kReclaim) {
    fs::Reply rep;
    rep.err = s.req.op == fs::Op::kReclaim ? EPERM : ENOSYS;
    reply(rep);
    return Status::Ok();
  }
  if (fs::IsQuery(s.req.op)) {
    fs::Reply rep = fs::Query(*store_, s.req);
    if (s.req.op == fs::Op::kOpen && rep.err == 0) opens_->Open(c->session_id, s.req.ino);
    reply(rep);
    return Status::Ok();
  }
  s.session_id = c->session_id;
  s.request_id = rid;
  s.oldest_unreplied = oldest;
  s.reply = std::move(reply);
  sequencer_->Submit(std::move(s));
  return Status::Ok();
}

}  // namespace baton::mds
