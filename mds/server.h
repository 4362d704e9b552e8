// MdsServer: the TCP front of the MDS.
//
// Threading (simple and robust on purpose): one accept thread polls the
// listening socket; every accepted connection gets its own reader thread that
// reads frames with blocking recv, and its own writer thread that writes the
// connection's queue of outgoing frames. Nobody else touches a socket: the
// sequencer's replies only queue a frame, so a client that stops reading
// stalls only its own writer; once more than 64 MiB are queued for it the
// connection is closed (the client reconnects and re-sends; exactly-once
// answers what was applied). Queries are served on the reader thread by
// Sequencer::Query (through its open write transaction while that holds
// uncommitted changes, else from an LMDB read transaction); kOpen and kRelease too, synchronously and
// in frame order (mds/open_table.h); mutations and kFsync go to the
// Sequencer. A connection must say HELLO within 10 s. A HELLO that re-opens a
// session supersedes the session's older connection: it is shut down and
// submits nothing more. A bad frame (or any protocol violation) logs one line
// naming the peer and the problem and closes that connection only.
// Connection threads that ended are reaped by the accept thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "fs/meta_store.h"
#include "mds/metrics.h"
#include "mds/open_table.h"
#include "mds/sequencer.h"
#include "proto/frame.h"
#include "proto/messages.h"

namespace baton::mds {

struct ServerOptions {
  std::string listen_addr;  // host:port; port 0 picks a free port
  // A socket already listening (the MDS binds before it is elected, so a
  // busy address fails before anything is written); owned by the caller.
  int listen_fd = -1;
  std::string bound_address;  // with listen_fd: its address
  uint64_t epoch = 0;
  std::string name;           // this MDS's name, for STATUS
  std::string volume_id;      // the volume's UUID, in HELLO_REPLY and STATUS
  // The MDS map told to clients in HELLO_REPLY and STATUS (default: our address).
  std::function<std::vector<std::string>()> mds_map;
  // Whether a frame may go out now (this MDS's lease is fresh,
  // mds/election.h): checked before every send; the writer thread waits
  // (1 ms polls) until it holds, a direct send queues the frame instead.
  std::function<bool()> may_send;
  // A client has seen a newer epoch than ours: checks the fence (exits the
  // process if deposed). Unset: the session is refused all the same.
  std::function<void()> on_newer_epoch;
  // Optional (mds/metrics.h): requests by op, connected sessions.
  MdsMetrics* metrics = nullptr;
};

class MdsServer {
 public:
  // Every read of the store goes through sequencer->Query (it alone knows
  // what is applied but not yet committed), so the server holds no store.
  MdsServer(Sequencer* sequencer, OpenTable* opens, const ServerOptions& options);
  ~MdsServer();
  Status Start();
  // Stops accepting, closes every connection, joins every thread.
  void Stop();
  const std::string& address() const { return address_; }
  uint64_t session_count() const;

 private:
  struct Conn;
  void AcceptLoop();
  void ReapFinished();
  void Serve(std::shared_ptr<Conn> c);
  Status HandleFrame(const std::shared_ptr<Conn>& c, const proto::Frame& f);
  Status HandleHello(const std::shared_ptr<Conn>& c, const proto::Frame& f);
  Status HandleRequest(const std::shared_ptr<Conn>& c, const proto::Frame& f);
  Status SendStatus(const std::shared_ptr<Conn>& c);
  fs::Reply HandleOpen(uint64_t session_id, const fs::Request& req);
  void SupersedeOlderConns(const std::shared_ptr<Conn>& c);
  void ForgetConnLocked(const std::shared_ptr<Conn>& c);
  void NoteSessionsLocked();  // the sessions gauge
  uint64_t NewSessionId();
  std::vector<std::string> MdsMap() const;

  Sequencer* sequencer_;
  OpenTable* opens_;
  ServerOptions options_;
  std::string address_;
  int listen_fd_ = -1;
  bool owns_listen_fd_ = true;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;

  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Conn>> conns_;  // GUARDED_BY(mu_)
  std::set<uint64_t> sessions_;               // GUARDED_BY(mu_): every session seen by this MDS
  std::map<uint64_t, std::weak_ptr<Conn>> session_conns_;  // GUARDED_BY(mu_): newest connection of a session
};

}  // namespace baton::mds
