// Client::Pending: one unanswered request (private to client/).
#pragma once

#include <cstdint>
#include <string>

#include "client/client.h"
#include "fs/ops.h"

namespace baton::client {

struct Client::Pending {
  uint64_t request_id = 0;
  fs::Request req;
  std::string body;       // fs::EncodeRequest(req)
  uint64_t sent_gen = 0;  // connection generation it was last sent on (0 = never)
  bool internal = false;  // a re-sent open: nobody waits for it
  bool was_open = false;  // kOpen: the inode was already in opens_ when this was sent
  bool done = false;
  fs::Reply reply;
};

}  // namespace baton::client
