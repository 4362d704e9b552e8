// Private to client/: Client::Pending (one unanswered request) and the
// deadline-bounded frame read shared by the handshake and STATUS.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "client/client.h"
#include "fs/ops.h"
#include "proto/frame.h"

namespace baton::client {

struct Client::Pending {
  uint64_t request_id = 0;
  fs::Request req;
  std::string body;       // fs::EncodeRequest(req)
  uint64_t sent_gen = 0;  // connection generation it was last sent on (0 = never)
  std::chrono::steady_clock::time_point sent_at;  // when it was last sent (valid if sent_gen != 0)
  bool internal = false;  // a re-sent open: nobody waits for it
  bool was_open = false;  // kOpen: the inode was already in opens_ when this was sent
  bool done = false;
  fs::Reply reply;
};

// How long a reply nobody waits for (a Post's) may wait for a caller to take
// the read role before the reader thread reads it (client.h).
inline constexpr auto kReadHandOff = std::chrono::milliseconds(1);

// Reads one frame from fd, giving up with kTimeout at deadline (a peer that
// trickles bytes cannot stretch the wait past it). kClosed on EOF.
Status ReadFrameBefore(int fd, std::chrono::steady_clock::time_point deadline, proto::Frame* out);

}  // namespace baton::client
