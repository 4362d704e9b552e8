#include "client/client.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <deque>
#include <set>

#include "base/log.h"
#include "client/pending.h"
#include "proto/frame.h"
#include "proto/frame_format.h"
#include "proto/net.h"

namespace baton::client {


namespace {

using Clock = std::chrono::steady_clock;

// Sends HELLO on a connected fd and reads the reply (any role), all by
// deadline: a hung MDS accepts the TCP connection but never answers.
// known_epoch tells a deposed MDS that a newer active exists (it refuses).
Status Handshake(int fd, uint64_t session_id, const std::string& name, uint64_t known_epoch,
                 Clock::time_point deadline, proto::HelloReply* out) {
  proto::Hello h{proto::kProtocolVersion, session_id, name, known_epoch};
  BATON_RETURN_IF_ERROR(proto::SendFrame(fd, {proto::FrameKind::kHello, 0, 0, 0, proto::EncodeHello(h)}));
  proto::Frame f;
  BATON_RETURN_IF_ERROR(ReadFrameBefore(fd, deadline, &f));
  if (f.kind == proto::FrameKind::kError) {
    proto::ErrorBody e;
    BATON_RETURN_IF_ERROR(proto::DecodeErrorBody(f.payload, &e));
    return Status::Unsupported("MDS refused the session: " + e.message);
  }
  if (f.kind != proto::FrameKind::kHelloReply) return Status::Corruption("expected HELLO_REPLY");
  return proto::DecodeHelloReply(f.payload, out);
}

}  // namespace

Client::Client(std::vector<std::string> addresses, const ClientOptions& options)
    : addresses_(std::move(addresses)), options_(options), bell_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

StatusOr<std::unique_ptr<Client>> Client::Connect(const std::vector<std::string>& addresses,
                                                  const ClientOptions& options) {
  if (addresses.empty()) return Status::InvalidArgument("no MDS address");
  std::unique_ptr<Client> c(new Client(addresses, options));
  if (c->bell_fd_ < 0) return Status::IOError("eventfd for the client's reader thread", errno);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.initial_connect_timeout_ms);
  for (;;) {
    Conn conn;
    Status st = c->ConnectOnce(&conn);
    if (st.ok()) {
      c->Install(conn, true);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) return st;
    std::this_thread::sleep_for(std::chrono::milliseconds(options.reconnect_interval_ms));
  }
  Client* raw = c.get();
  c->reader_ = std::thread([raw] { raw->ReaderLoop(); });
  if (options.probe_after_ms >= 0) c->watchdog_ = std::thread([raw] { raw->WatchdogLoop(); });
  return c;
}

Client::~Client() {
  Close();
  proto::CloseFd(bell_fd_);
}

void Client::Close() {
  {
    std::lock_guard<std::mutex> l(mu_);
    closing_ = true;
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
    cv_.notify_all();
    watchdog_cv_.notify_all();
    RingBellLocked();
  }
  if (watchdog_.joinable()) watchdog_.join();
  if (reader_.joinable()) reader_.join();
  if (resender_.joinable()) resender_.join();
  {
    // A caller holding the read role returns from its recv (shut down
    // above) and lets go; only then may the fd be closed.
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !reading_; });
  }
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

uint64_t Client::highest_epoch_seen() const {
  std::lock_guard<std::mutex> l(mu_);
  return max_epoch_seen_;
}

std::string Client::active_address() const {
  std::lock_guard<std::mutex> l(mu_);
  return current_addr_;
}

ClientStats Client::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

bool Client::AllAnswered() const {
  std::lock_guard<std::mutex> l(mu_);
  return pending_.empty();
}

// One round over the known addresses: the last active first, a redirect's
// hint next, each address at most once (addresses_ is bounded, so a round
// ends however peers redirect).
Status Client::ConnectOnce(Conn* out) {
  uint64_t session;
  std::deque<std::string> todo;
  {
    std::lock_guard<std::mutex> l(mu_);
    session = session_id_;
    if (!preferred_addr_.empty()) todo.push_back(preferred_addr_);
    todo.insert(todo.end(), addresses_.begin(), addresses_.end());
  }
  std::set<std::string> tried;
  Status last = Status::Closed("no MDS address answered");
  while (!todo.empty()) {
    std::string addr = std::move(todo.front());
    todo.pop_front();
    if (!tried.insert(addr).second) continue;
    Conn c;
    last = TryAddress(addr, session, &c);
    std::lock_guard<std::mutex> l(mu_);
    std::vector<std::string> added = LearnLocked(c.hello.mds_addresses);
    if (last.ok()) {
      *out = std::move(c);
      return last;
    }
    todo.insert(todo.end(), added.begin(), added.end());
    if (last.code() == Code::kBusy && !c.hello.mds_addresses.empty()) todo.push_front(c.hello.mds_addresses[0]);
  }
  return last;
}

// Connects to addr and handshakes within connect_timeout_ms. Ok only for an
// active MDS with a current epoch (out->fd is then open); otherwise out->hello
// holds whatever the MDS answered, for its addresses.
Status Client::TryAddress(const std::string& addr, uint64_t session, Conn* out) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.connect_timeout_ms);
  {
    std::lock_guard<std::mutex> l(mu_);
    stats_.connect_attempts++;
  }
  StatusOr<int> fd = proto::ConnectTcp(addr, static_cast<int>(options_.connect_timeout_ms));
  if (!fd.ok()) return fd.status();
  proto::HelloReply hello;
  Status st = Handshake(*fd, session, options_.client_name, highest_epoch_seen(), deadline, &hello);
  if (st.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    st = JudgeHelloLocked(addr, hello);
  }
  if (!st.ok()) {
    proto::CloseFd(*fd);
    if (st.code() == Code::kUnsupported) LOG_WARN("client", "%s: %s", addr.c_str(), st.ToString().c_str());
    out->hello = std::move(hello);
    return st;
  }
  *out = Conn{*fd, std::move(hello), addr};
  return st;
}

// Whether a HELLO_REPLY may become the session's connection: kBusy for a
// standby (a redirect), kFenced for an active older than an epoch seen,
// kCorruption for one that did not keep the session id asked for.
Status Client::JudgeHelloLocked(const std::string& addr, const proto::HelloReply& hello) {
  const std::string epoch = std::to_string(hello.epoch);
  if (!OurVolumeLocked(hello.volume_id)) {
    if (last_stale_logged_ != addr + "@" + hello.volume_id) {
      LOG_WARN("client", "%s serves volume %s, not this session's %s: not used", addr.c_str(), hello.volume_id.c_str(),
               volume_id_.c_str());
      last_stale_logged_ = addr + "@" + hello.volume_id;
    }
    return Status::InvalidArgument(addr + " serves another volume (" + hello.volume_id + ")");
  }
  if (hello.role != proto::Role::kActive) {
    max_epoch_seen_ = std::max(max_epoch_seen_, hello.epoch);
    stats_.redirects++;
    return Status::Busy(addr + " is " + proto::RoleName(hello.role) + " (epoch " + epoch + ")");
  }
  if (hello.epoch < max_epoch_seen_) {
    stats_.stale_refused++;
    const std::string seen = std::to_string(max_epoch_seen_);
    if (last_stale_logged_ != addr + "@" + epoch) {
      LOG_WARN("client", "%s answers as active with epoch %s, below epoch %s seen: deposed, not used", addr.c_str(),
               epoch.c_str(), seen.c_str());
      last_stale_logged_ = addr + "@" + epoch;
    }
    return Status::Fenced(addr + " was deposed (epoch " + epoch + " < " + seen + ")");
  }
  if (session_id_ != 0 && hello.session_id != session_id_) {
    // Re-opening must keep the session id: another id would re-apply every
    // re-sent request (the exactly-once table is per session).
    LOG_WARN("client", "%s re-opened session %016llx as %016llx: not used", addr.c_str(),
             static_cast<unsigned long long>(session_id_), static_cast<unsigned long long>(hello.session_id));
    return Status::Corruption(addr + " changed the session id");
  }
  max_epoch_seen_ = hello.epoch;
  preferred_addr_ = addr;
  if (volume_id_.empty()) volume_id_ = hello.volume_id;  // pinned by the first active
  return Status::Ok();
}

// A reply may be used if it names no volume (an MDS that does not say) or
// the volume this session was pinned to by its first active MDS.
bool Client::OurVolumeLocked(const std::string& volume_id) const {
  return volume_id.empty() || volume_id_.empty() || volume_id == volume_id_;
}

// Adds the addresses not known yet (up to proto::kMaxAddresses in all);
// returns those added.
std::vector<std::string> Client::LearnLocked(const std::vector<std::string>& addrs) {
  std::vector<std::string> added;
  for (const std::string& a : addrs) {
    if (a.empty() || addresses_.size() >= proto::kMaxAddresses) continue;
    if (std::find(addresses_.begin(), addresses_.end(), a) != addresses_.end()) continue;
    addresses_.push_back(a);
    added.push_back(a);
  }
  return added;
}

// Makes conn the current connection. Called with neither lock held.
void Client::Install(const Conn& conn, bool first) {
  std::lock_guard<std::mutex> l(mu_);
  cv_.notify_all();  // the reader waits for the resender to install
  if (closing_) {
    proto::CloseFd(conn.fd);
    return;
  }
  fd_ = conn.fd;
  decoder_ = proto::FrameDecoder();  // nobody holds the read role while disconnected
  gen_++;
  connected_ = true;
  session_id_ = conn.hello.session_id;
  epoch_ = conn.hello.epoch;
  assert(epoch_ <= max_epoch_seen_);
  current_addr_ = conn.addr;
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
  p.was_open = opens_.count(p.req.ino) != 0;
  NoteOpenLocked(p.request_id, OpenRequest(p.req.ino));
}

void Client::NoteOpenLocked(uint64_t request_id, fs::Request hold) {
  OpenRecord& r = opens_[hold.ino];
  r.request_id = request_id;
  r.req = std::move(hold);
}

// What a reconnect re-sends for an open inode is a hold, not a new permission
// check: the file was opened when it was checked, and a chmod since (allowed
// while it is open) must not make the MDS drop an unlinked file still in use.
fs::Request Client::OpenRequest(fs::Ino ino) {
  fs::Request r;
  r.op = fs::Op::kOpen;
  r.ino = ino;
  r.flags = O_RDONLY;
  return r;
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
    p->sent_at = Clock::now();
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

Status Client::Post(const fs::Request& req) {
  StatusOr<std::shared_ptr<Pending>> queued = Enqueue(req);
  if (!queued.ok()) return queued.status();
  std::lock_guard<std::mutex> l(mu_);
  RoleFreeLocked();  // nobody may wait to read its reply
  return Status::Ok();
}

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
  const bool timed = options_.call_timeout_ms >= 0 || options_.outage_timeout_ms >= 0;
  const auto start = Clock::now();
  const auto deadline = options_.call_timeout_ms < 0 ? Clock::time_point::max()
                                                     : start + std::chrono::milliseconds(options_.call_timeout_ms);
  bool answered = true;
  while (!p->done && !closing_) {
    const auto now = Clock::now();
    if (now >= deadline) {
      answered = false;
      break;
    }
    // Each call gives the MDS the whole outage timeout to come back, counted
    // from the call or from the loss of the connection, whichever is later.
    if (options_.outage_timeout_ms >= 0 && !connected_ &&
        now - std::max(start, down_since_) >= std::chrono::milliseconds(options_.outage_timeout_ms)) {
      answered = false;
      break;
    }
    if (!reading_ && connected_) {  // read for ourselves (client.h, the read role)
      // Until the deadline: the outage timeout matters only once the
      // connection is lost, and that ends the read.
      ReadForCallerLocked(l, p, deadline);
      continue;
    }
    role_waiters_++;
    if (timed) {
      // In slices, to check the outage timeout.
      cv_.wait_until(l, std::min(deadline, now + std::chrono::milliseconds(50)));
    } else {
      cv_.wait(l);
    }
    role_waiters_--;
  }
  // The last waiter leaving without reading frees the role (ReleaseReadLocked).
  if (!closing_) RoleFreeLocked();
  return answered;
}

}  // namespace baton::client
