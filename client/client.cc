#include "client/client.h"

#include <fcntl.h>
#include "client/pending.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>

#include "base/log.h"
#include "proto/frame.h"
#include "proto/frame_format.h"
#include "proto/net.h"

namespace baton::client {


namespace {

void SetRecvTimeout(int fd, uint32_t timeout_ms) {
  timeval tv{static_cast<time_t>(timeout_ms / 1000), static_cast<suseconds_t>((timeout_ms % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// Sends HELLO on a connected fd and reads the reply.
Status Handshake(int fd, uint64_t session_id, const std::string& name, uint32_t timeout_ms,
                 proto::HelloReply* out) {
  proto::Hello h{proto::kProtocolVersion, session_id, name};
  BATON_RETURN_IF_ERROR(proto::SendFrame(fd, {proto::FrameKind::kHello, 0, 0, 0, proto::EncodeHello(h)}));
  SetRecvTimeout(fd, timeout_ms);
  proto::FrameDecoder dec;
  proto::Frame f;
  BATON_RETURN_IF_ERROR(proto::ReadFrame(fd, &dec, &f));
  SetRecvTimeout(fd, 0);
  if (f.kind == proto::FrameKind::kError) {
    proto::ErrorBody e;
    BATON_RETURN_IF_ERROR(proto::DecodeErrorBody(f.payload, &e));
    return Status::Unsupported("MDS refused the session: " + e.message);
  }
  if (f.kind != proto::FrameKind::kHelloReply) return Status::Corruption("expected HELLO_REPLY");
  BATON_RETURN_IF_ERROR(proto::DecodeHelloReply(f.payload, out));
  if (out->role != proto::Role::kActive) return Status::Busy("MDS is not active");
  return Status::Ok();
}

}  // namespace

Client::Client(std::vector<std::string> addresses, const ClientOptions& options)
    : addresses_(std::move(addresses)), options_(options) {}

StatusOr<std::unique_ptr<Client>> Client::Connect(const std::vector<std::string>& addresses,
                                                  const ClientOptions& options) {
  if (addresses.empty()) return Status::InvalidArgument("no MDS address");
  std::unique_ptr<Client> c(new Client(addresses, options));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.initial_connect_timeout_ms);
  for (;;) {
    int fd = -1;
    proto::HelloReply hello;
    Status st = c->ConnectOnce(&fd, &hello);
    if (st.ok()) {
      c->Install(fd, hello, true);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) return st;
    std::this_thread::sleep_for(std::chrono::milliseconds(options.reconnect_interval_ms));
  }
  Client* raw = c.get();
  c->reader_ = std::thread([raw] { raw->ReaderLoop(); });
  return c;
}

Client::~Client() { Close(); }

void Client::Close() {
  {
    std::lock_guard<std::mutex> l(mu_);
    closing_ = true;
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
    cv_.notify_all();
  }
  if (reader_.joinable()) reader_.join();
  if (resender_.joinable()) resender_.join();
  std::lock_guard<std::mutex> w(write_mu_);
  std::lock_guard<std::mutex> l(mu_);
  proto::CloseFd(fd_);
  fd_ = -1;
  connected_ = false;
}

void Client::BreakConnectionForTest() {
  std::lock_guard<std::mutex> l(mu_);
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

uint64_t Client::session_id() const {
  std::lock_guard<std::mutex> l(mu_);
  return session_id_;
}

uint64_t Client::epoch() const {
  std::lock_guard<std::mutex> l(mu_);
  return epoch_;
}

ClientStats Client::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

Status Client::ConnectOnce(int* fd, proto::HelloReply* hello) {
  uint64_t session;
  std::vector<std::string> addrs;
  {
    std::lock_guard<std::mutex> l(mu_);
    session = session_id_;
    addrs = addresses_;
  }
  Status last = Status::Closed("no MDS address answered");
  for (const std::string& addr : addrs) {
    StatusOr<int> s = proto::ConnectTcp(addr, static_cast<int>(options_.connect_timeout_ms));
    if (!s.ok()) {
      last = s.status();
      continue;
    }
    last = Handshake(*s, session, options_.client_name, options_.connect_timeout_ms, hello);
    if (last.ok()) {
      *fd = *s;
      return last;
    }
    proto::CloseFd(*s);
    if (last.code() == Code::kUnsupported) LOG_WARN("client", "%s: %s", addr.c_str(), last.ToString().c_str());
  }
  return last;
}

// Makes fd the current connection. Called with neither lock held.
void Client::Install(int fd, const proto::HelloReply& hello, bool first) {
  std::lock_guard<std::mutex> l(mu_);
  cv_.notify_all();  // the reader waits for the resender to install
  if (closing_) {
    proto::CloseFd(fd);
    return;
  }
  fd_ = fd;
  gen_++;
  connected_ = true;
  session_id_ = hello.session_id;
  epoch_ = hello.epoch;
  for (const std::string& a : hello.mds_addresses) {
    bool known = false;
    for (const std::string& k : addresses_) known = known || k == a;
    if (!known) addresses_.push_back(a);
  }
  if (!first) stats_.reconnects++;
}

std::shared_ptr<Client::Pending> Client::AddPendingLocked(const fs::Request& req, bool internal) {
  auto p = std::make_shared<Pending>();
  p->request_id = next_request_id_++;
  p->req = req;
  p->body = fs::EncodeRequest(req);
  p->internal = internal;
  pending_[p->request_id] = p;
  NoteOpenLocked(*p);
  return p;
}

// The open set follows the requests as sent, in request-id order.
void Client::NoteOpenLocked(Pending& p) {
  if (p.req.op == fs::Op::kRelease) opens_.erase(p.req.ino);
  if (p.req.op != fs::Op::kOpen) return;
  OpenRecord& r = opens_[p.req.ino];
  p.was_open = r.request_id != 0;
  r.request_id = p.request_id;
  // What a reconnect re-sends is a hold, not a new permission check: the
  // file was opened when it was checked, and a chmod since (allowed while it
  // is open) must not make the MDS drop an unlinked file still in use.
  r.req = p.req;
  r.req.creds = fs::Creds{};
  r.req.flags = O_RDONLY;
}

Status Client::SendLocked(int fd, const Pending& p, uint64_t oldest) {
  proto::Frame f{proto::FrameKind::kRequest, static_cast<uint16_t>(p.req.op), 0, p.request_id,
                 proto::MakeRequestPayload(oldest, p.body)};
  return proto::SendFrame(fd, f);
}

void Client::SendIfConnectedLocked(const std::shared_ptr<Pending>& p) {
  int fd;
  uint64_t oldest;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!connected_ || p->done || p->sent_gen == gen_) return;
    p->sent_gen = gen_;
    fd = fd_;
    oldest = pending_.empty() ? p->request_id : pending_.begin()->first;
  }
  // A failed send needs nothing here: the reader sees the broken connection
  // and re-sends everything unanswered after reconnecting.
  if (!SendLocked(fd, *p, oldest).ok()) ::shutdown(fd, SHUT_RDWR);
}

StatusOr<std::shared_ptr<Client::Pending>> Client::Enqueue(const fs::Request& req) {
  if (fs::EncodeRequest(req).size() + proto::kRequestPrefixBytes > proto::kMaxPayloadBytes) {
    return Status::InvalidArgument(std::string(fs::OpName(req.op)) + " request too large for one frame");
  }
  std::shared_ptr<Pending> p;
  // The id is taken under write_mu_: frames leave in request-id order.
  std::lock_guard<std::mutex> w(write_mu_);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closing_) return Status::Closed("client closed");
    p = AddPendingLocked(req, false);
    stats_.calls++;
  }
  SendIfConnectedLocked(p);
  return p;
}

Status Client::Post(const fs::Request& req) { return Enqueue(req).status(); }

StatusOr<fs::Reply> Client::Call(const fs::Request& req) {
  StatusOr<std::shared_ptr<Pending>> queued = Enqueue(req);
  if (!queued.ok()) return queued.status();
  std::shared_ptr<Pending> p = std::move(*queued);
  std::unique_lock<std::mutex> l(mu_);
  if (!WaitReply(l, p)) {
    pending_.erase(p->request_id);
    return Status::Timeout(std::string("no reply to ") + fs::OpName(req.op) +
                           (connected_ ? "" : ": no MDS reachable"));
  }
  if (!p->done) return Status::Closed("client closed");
  return std::move(p->reply);
}

bool Client::WaitReply(std::unique_lock<std::mutex>& l, const std::shared_ptr<Pending>& p) {
  using Clock = std::chrono::steady_clock;
  auto ready = [&] { return p->done || closing_; };
  if (options_.call_timeout_ms < 0 && options_.outage_timeout_ms < 0) {
    cv_.wait(l, ready);
    return true;
  }
  const auto deadline = options_.call_timeout_ms < 0
                            ? Clock::time_point::max()
                            : Clock::now() + std::chrono::milliseconds(options_.call_timeout_ms);
  const auto start = Clock::now();
  while (!ready()) {
    auto now = Clock::now();
    if (now >= deadline) return false;
    // Each call gives the MDS the whole outage timeout to come back, counted
    // from the call or from the loss of the connection, whichever is later.
    if (options_.outage_timeout_ms >= 0 && !connected_ &&
        now - std::max(start, down_since_) >= std::chrono::milliseconds(options_.outage_timeout_ms))
      return false;
    cv_.wait_until(l, std::min(deadline, now + std::chrono::milliseconds(50)));
  }
  return true;
}

}  // namespace baton::client
