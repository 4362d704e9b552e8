// TCP helpers shared by the MDS and the client library: the one place where
// socket errno values become Status. IPv4 only ("127.0.0.1:7070",
// "localhost:7070").
#pragma once

#include <cstdint>
#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"
#include "proto/frame.h"

namespace baton::proto {

Status ParseHostPort(const std::string& addr, std::string* host, uint16_t* port);
// Listens on addr (port 0 = any free port); *bound_addr gets "host:port".
StatusOr<int> ListenTcp(const std::string& addr, std::string* bound_addr);
// Disables Nagle's algorithm: both ends send small frames that must not wait
// for the peer's delayed ACK (40 ms on Linux).
void SetNoDelay(int fd);

// Connects with a timeout; TCP_NODELAY set.
StatusOr<int> ConnectTcp(const std::string& addr, int timeout_ms);
// Writes everything (MSG_NOSIGNAL); kClosed when the peer went away.
Status WriteAll(int fd, std::string_view data);
Status SendFrame(int fd, const Frame& f);
// Reads until one whole frame is decoded. kClosed on EOF, kCorruption on a
// bad frame (decoder->error() says which), kTimeout once `deadline` passed
// with no whole frame (the bytes read so far stay in decoder).
Status ReadFrame(int fd, FrameDecoder* decoder, Frame* out,
                 std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());
// "a.b.c.d:port" of the peer, for log lines.
std::string PeerName(int fd);
void CloseFd(int fd);

}  // namespace baton::proto
