// QueryStatus: one STATUS exchange, no session (for `baton status`).
#include <sys/socket.h>
#include <sys/time.h>

#include "client/client.h"
#include "proto/frame.h"
#include "proto/net.h"

namespace baton::client {

StatusOr<proto::StatusInfo> QueryStatus(const std::string& addr, int timeout_ms) {
  BATON_ASSIGN_OR_RETURN(int fd, proto::ConnectTcp(addr, timeout_ms));
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  proto::FrameDecoder dec;
  proto::Frame f;
  Status st = proto::SendFrame(fd, {proto::FrameKind::kStatus, 0, 0, 0, {}});
  if (st.ok()) st = proto::ReadFrame(fd, &dec, &f);
  proto::CloseFd(fd);
  BATON_RETURN_IF_ERROR(st);
  if (f.kind != proto::FrameKind::kStatusReply) return Status::Corruption("expected STATUS_REPLY from " + addr);
  proto::StatusInfo info;
  BATON_RETURN_IF_ERROR(proto::DecodeStatusInfo(f.payload, &info));
  return info;
}

}  // namespace baton::client
