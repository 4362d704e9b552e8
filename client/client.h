// The client library: one session with the active MDS, used by the FUSE
// client, the tools and the tests.
//
// Call() is thread-safe and pipelined: many threads may have requests in
// flight on the one connection. A writer mutex serialises frames on the
// socket, and request ids are assigned under it, so frames go out in
// request-id order.
//
// The read role (leader/follower): at most one thread reads the connection
// at a time, and whoever holds the role hands each reply to its caller by
// request id. A caller waiting for its reply takes the role itself whenever
// it is free and reads until its own reply is in (or its deadline passes).
// A lone caller thus wakes straight from its own recv: no thread hand-off,
// which cost a wake-up and a context switch per call when a reader thread
// read every reply. The
// reader thread takes the role only when no caller will: for a request
// nobody waits on (Post) once kReadHandOff passed without a caller taking
// it, after a reconnect, and when the peer closes or resets a connection
// nobody is reading (it watches for that with POLLRDHUP, which arriving
// replies do not wake, so an idle session re-sends its opens at once after
// an MDS restart). It alone reconnects. It is woken when the role frees up
// only if it parked while the role was taken (RoleFreeLocked), so a lone
// caller's calls ring nothing. While it holds the role for a Post's reply,
// a caller that comes gets its reply from it (the old hand-off); that lasts
// only as long as a release takes to answer.
//
// The set of open inodes is updated when a kOpen / kRelease is sent (in
// request-id order, the order the MDS applies them), not when answered; a
// kMknod with fs::kMknodOpen (a create that opens) adds its new inode when
// answered, since only the reply names it (the MDS holds it from then on).
//
// Session rules (docs/format/wire-protocol.md): request ids increase per
// session; every kRequest carries the lowest request id still awaiting a
// reply. On connection loss (seen by the holder of the read role, which
// disconnects) the reader thread reconnects (after 5 ms, then
// backing off to every reconnect_interval_ms; each address in turn), re-opens the same
// session id and hands the new connection to a resender thread, which
// re-sends kOpen for every inode this client holds open (so the MDS keeps
// those orphans), then every unanswered request in request-id order with its
// original request id, all under the writer mutex (new calls cannot overtake
// them) while replies are read meanwhile; the MDS's exactly-once table
// answers any that were already applied with the original reply. Callers
// wait through the outage (call_timeout_ms < 0: forever).
//
// Failover: several MDSs serve a volume, one active, the others standby.
// A connection is installed only on an MDS whose HELLO_REPLY says active,
// with an epoch no lower than the highest epoch this client has seen (in any
// HELLO_REPLY or STATUS_REPLY). One connect round (ConnectOnce) tries the
// address that last answered as active first, then the others in order:
//   * a standby (or any non-active role) is a redirect: its connection is
//     closed unused, the addresses it lists are learnt, and its hint (the
//     first listed address, the active when known) is tried next;
//   * an active with a lower epoch than one already seen was deposed (it
//     does not know yet): closed, logged, the others tried;
//   * an MDS that accepts the TCP connection but does not answer HELLO
//     (hung) costs at most connect_timeout_ms before the next address.
// Each address is tried at most once per round, so redirects cannot loop.
// A hung active keeps its TCP connection open, so no connection loss is
// seen: a watchdog thread notices when the oldest unanswered request has
// waited probe_after_ms, and then (every probe_interval_ms while that lasts)
// asks every other known MDS for its STATUS. If one is active with an epoch
// above the session's, the current connection is dropped as if lost, and
// the ordinary reconnect + resend above runs, starting at that address.
// A slow MDS with no higher-epoch active anywhere is never dropped.
//
// The MDS replies only after a request is durable, so an answered request is
// never kept or re-sent.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "fs/ops.h"
#include "proto/frame.h"
#include "proto/messages.h"

namespace baton::client {

struct ClientOptions {
  std::string client_name = "baton-client";
  int64_t call_timeout_ms = -1;                // < 0: wait forever
  // A call fails (kTimeout) once no MDS has been reachable for this long,
  // counted from the call or from the loss of the connection, whichever is
  // later (< 0: wait through any outage, like an NFS hard mount). A slow but
  // connected MDS never trips it.
  int64_t outage_timeout_ms = -1;
  uint32_t reconnect_interval_ms = 100;       // retry interval after a loss: 5 ms, doubling up to this
  uint32_t connect_timeout_ms = 1000;          // one connect + handshake attempt
  int64_t initial_connect_timeout_ms = 10000;  // Connect() gives up after this
  // Hung-active detection: once the oldest unanswered request has waited
  // this long on the current connection, the other MDSs are probed with
  // STATUS (< 0: never probe).
  int64_t probe_after_ms = 1000;
  uint32_t probe_interval_ms = 250;  // at most one probe round per interval
  uint32_t probe_timeout_ms = 500;   // one STATUS exchange of a probe
};

struct ClientStats {
  uint64_t calls = 0;
  uint64_t connect_attempts = 0;  // addresses tried (TCP connect + HELLO), whatever the outcome
  uint64_t reconnects = 0;       // successful re-connections after a loss
  uint64_t resent_requests = 0;  // requests re-sent after reconnects
  uint64_t resent_opens = 0;
  uint64_t redirects = 0;        // HELLO_REPLYs from a non-active MDS (not installed)
  uint64_t stale_refused = 0;    // HELLO_REPLYs from an active with a stale epoch
  uint64_t probe_rounds = 0;     // STATUS probe rounds while a request waited
  uint64_t probe_switches = 0;   // connections dropped: a probe found a newer active
  uint64_t reader_thread_replies = 0;  // replies read by the reader thread, not by a waiting caller
};

class Client {
 public:
  static StatusOr<std::unique_ptr<Client>> Connect(const std::vector<std::string>& addresses,
                                                   const ClientOptions& options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends one request and waits for its reply. A file-system error is in
  // reply.err; a non-ok Status means no answer (timeout, client closed).
  StatusOr<fs::Reply> Call(const fs::Request& req);
  // Sends req without waiting: its answer is dropped, and until it comes it
  // is re-sent after a reconnect like any unanswered call. It leaves in
  // request-id order, so a later Call cannot overtake it (kRelease).
  Status Post(const fs::Request& req);

  uint64_t session_id() const;
  uint64_t epoch() const;             // the epoch of the MDS the session is connected to
  uint64_t highest_epoch_seen() const;
  std::string active_address() const;  // of the current connection ("" when none yet)
  ClientStats stats() const;
  // True when every request sent so far has been answered. The MDS answers a
  // mutation only once it is durable, so then everything this session has
  // been told is durable: a barrier (kFsync) would wait for nothing.
  bool AllAnswered() const;
  // Closes the session's connection; pending calls fail with kClosed.
  void Close();
  // Test hook: breaks the current connection as a network reset would.
  void BreakConnectionForTest();

 private:
  struct Pending;
  struct Conn {  // a handshaken connection to an active MDS
    int fd = -1;
    proto::HelloReply hello;
    std::string addr;
  };
  Client(std::vector<std::string> addresses, const ClientOptions& options);
  Status ConnectOnce(Conn* out);
  Status TryAddress(const std::string& addr, uint64_t session, Conn* out);
  Status JudgeHelloLocked(const std::string& addr, const proto::HelloReply& hello);  // REQUIRES(mu_)
  bool OurVolumeLocked(const std::string& volume_id) const;  // REQUIRES(mu_)
  std::vector<std::string> LearnLocked(const std::vector<std::string>& addrs);     // REQUIRES(mu_)
  bool Reconnect();
  void Resend(Conn conn);
  void NoteOpenLocked(Pending& p);
  void NoteOpenLocked(uint64_t request_id, fs::Request hold);
  static fs::Request OpenRequest(fs::Ino ino);
  void ReaderLoop();
  // The read role (above). ReadOne reads and hands over one frame, called by
  // the role's holder with no lock held, waiting for it until `until`
  // (time_point::max(): no limit); kLost when the connection failed (it is
  // then disconnected).
  enum class ReadResult { kFrame, kTimedOut, kLost };
  ReadResult ReadOne(int fd, uint64_t gen, std::chrono::steady_clock::time_point until);
  void ReadForCallerLocked(std::unique_lock<std::mutex>& l, const std::shared_ptr<Pending>& p,
                           std::chrono::steady_clock::time_point until);
  void ReleaseReadLocked();                                  // REQUIRES(mu_)
  void RoleFreeLocked();                                     // REQUIRES(mu_)
  void WakeReaderLocked(std::chrono::steady_clock::duration delay);  // REQUIRES(mu_)
  bool WaitBell(std::unique_lock<std::mutex>& l, int watch_fd, int timeout_ms);
  void RingBellLocked();  // REQUIRES(mu_)
  void OnReply(uint64_t request_id, const std::string& payload);
  void Disconnect(uint64_t gen);
  void SendIfConnectedLocked(const std::shared_ptr<Pending>& p);  // REQUIRES(write_mu_)
  Status SendLocked(int fd, const Pending& p, uint64_t oldest);
  std::shared_ptr<Pending> AddPendingLocked(const fs::Request& req, bool internal);
  std::vector<std::shared_ptr<Pending>> CollectResendLocked();
  void Install(const Conn& conn, bool first);
  void WatchdogLoop();
  bool ProbeDueLocked() const;  // REQUIRES(mu_)
  void ProbeOthers(std::unique_lock<std::mutex>& l);
  StatusOr<std::shared_ptr<Pending>> Enqueue(const fs::Request& req);
  // Waits for p's reply under l; false when a timeout gave up on it.
  bool WaitReply(std::unique_lock<std::mutex>& l, const std::shared_ptr<Pending>& p);

  std::vector<std::string> addresses_;  // GUARDED_BY(mu_): at most proto::kMaxAddresses
  ClientOptions options_;
  std::thread reader_;
  std::thread resender_;  // touched by the reader thread, and by Close after joining it
  std::thread watchdog_;  // probes the other MDSs while a request waits too long

  std::mutex write_mu_;  // held while writing to the socket; taken before mu_
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable watchdog_cv_;  // with mu_: wakes the watchdog on Close
  int bell_fd_ = -1;  // an eventfd: rung to wake the reader thread (RingBellLocked)
  // The read role: whether a thread holds it, how many callers wait that
  // would take it, and when the reader thread takes it if nobody has
  // (time_point::max(): not needed).
  bool reading_ = false;                                    // GUARDED_BY(mu_)
  int role_waiters_ = 0;                                    // GUARDED_BY(mu_)
  bool reader_parked_ = false;  // GUARDED_BY(mu_): the reader thread sleeps until the role is free
  std::chrono::steady_clock::time_point reader_due_ = std::chrono::steady_clock::time_point::max();  // GUARDED_BY(mu_)
  proto::FrameDecoder decoder_;  // the current connection's; used only by the holder of the read role
  int fd_ = -1;                 // GUARDED_BY(mu_); closed only with write_mu_ held too
  uint64_t gen_ = 0;            // GUARDED_BY(mu_): connection generation
  bool connected_ = false;      // GUARDED_BY(mu_)
  std::chrono::steady_clock::time_point down_since_;  // GUARDED_BY(mu_): when connected_ last became false
  bool closing_ = false;        // GUARDED_BY(mu_)
  uint64_t session_id_ = 0;     // GUARDED_BY(mu_)
  uint64_t epoch_ = 0;          // GUARDED_BY(mu_)
  // Invariant: epoch_ <= max_epoch_seen_. No connection is installed on an
  // MDS whose epoch is below max_epoch_seen_.
  uint64_t max_epoch_seen_ = 0;  // GUARDED_BY(mu_)
  std::string volume_id_;        // GUARDED_BY(mu_): pinned by the first active MDS (its HELLO_REPLY)
  std::string current_addr_;     // GUARDED_BY(mu_): the installed connection's MDS
  std::string preferred_addr_;   // GUARDED_BY(mu_): tried first (last seen active, or a probe's find)
  std::string last_stale_logged_;  // GUARDED_BY(mu_): "addr@epoch" last logged as deposed
  uint64_t next_request_id_ = 1;                         // GUARDED_BY(mu_)
  std::map<uint64_t, std::shared_ptr<Pending>> pending_;  // GUARDED_BY(mu_): unanswered, by request id
  struct OpenRecord {
    uint64_t request_id = 0;  // the last kOpen sent for the inode
    fs::Request req;
  };
  std::map<fs::Ino, OpenRecord> opens_;  // GUARDED_BY(mu_): the kOpen of each open inode, as sent
  ClientStats stats_;                                     // GUARDED_BY(mu_)
};

// One STATUS exchange with the MDS at addr (no session).
StatusOr<proto::StatusInfo> QueryStatus(const std::string& addr, int timeout_ms);

}  // namespace baton::client
