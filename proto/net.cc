#include "proto/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace baton::proto {

namespace {

Status NetError(const std::string& what, int err) {
  if (err == EPIPE || err == ECONNRESET || err == ENOTCONN) return Status::Closed(what + ": " + std::strerror(err));
  return Status::IOError(what + ": " + std::strerror(err), err);
}

Status ToSockaddr(const std::string& addr, sockaddr_in* sa) {
  std::string host;
  uint16_t port = 0;
  BATON_RETURN_IF_ERROR(ParseHostPort(addr, &host, &port));
  if (host == "localhost") host = "127.0.0.1";
  std::memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &sa->sin_addr) != 1) {
    return Status::InvalidArgument("not an IPv4 address: " + addr);
  }
  return Status::Ok();
}

std::string SockaddrName(const sockaddr_in& sa) {
  char buf[INET_ADDRSTRLEN] = "?";
  inet_ntop(AF_INET, &sa.sin_addr, buf, sizeof buf);
  return std::string(buf) + ":" + std::to_string(ntohs(sa.sin_port));
}

Status WaitConnected(int fd, const std::string& addr, int timeout_ms) {
  pollfd p{fd, POLLOUT, 0};
  int r = ::poll(&p, 1, timeout_ms);
  if (r == 0) return Status::Timeout("connect " + addr);
  if (r < 0) return NetError("poll " + addr, errno);
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return NetError("connect " + addr, err);
  return Status::Ok();
}

}  // namespace

Status ParseHostPort(const std::string& addr, std::string* host, uint16_t* port) {
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos || colon == 0) return Status::InvalidArgument("expected HOST:PORT, got '" + addr + "'");
  std::string p = addr.substr(colon + 1);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument("bad port in '" + addr + "'");
  }
  unsigned long v = std::stoul(p);
  if (v > 65535) return Status::InvalidArgument("bad port in '" + addr + "'");
  *host = addr.substr(0, colon);
  *port = static_cast<uint16_t>(v);
  return Status::Ok();
}

StatusOr<int> ListenTcp(const std::string& addr, std::string* bound_addr) {
  sockaddr_in sa;
  BATON_RETURN_IF_ERROR(ToSockaddr(addr, &sa));
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return NetError("socket", errno);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, 512) != 0) {
    Status s = NetError("listen on " + addr, errno);
    ::close(fd);
    return s;
  }
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  if (bound_addr != nullptr) *bound_addr = SockaddrName(sa);
  return fd;
}

StatusOr<int> ConnectTcp(const std::string& addr, int timeout_ms) {
  sockaddr_in sa;
  BATON_RETURN_IF_ERROR(ToSockaddr(addr, &sa));
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return NetError("socket", errno);
  Status s;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    s = errno == EINPROGRESS ? WaitConnected(fd, addr, timeout_ms) : NetError("connect " + addr, errno);
  }
  if (!s.ok()) {
    ::close(fd);
    return s;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  SetNoDelay(fd);
  return fd;
}

void SetNoDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return NetError("send", errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status SendFrame(int fd, const Frame& f) { return WriteAll(fd, EncodeFrame(f)); }

Status ReadFrame(int fd, FrameDecoder* decoder, Frame* out, std::chrono::steady_clock::time_point deadline) {
  using Clock = std::chrono::steady_clock;
  const bool timed = deadline != Clock::time_point::max();
  char buf[64 * 1024];
  for (;;) {
    StatusOr<bool> got = decoder->Next(out);
    if (!got.ok()) return got.status();
    if (*got) return Status::Ok();
    if (timed) {
      const auto left_ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left_ms <= 0) return Status::Timeout("no answer from " + PeerName(fd) + " in time");
      pollfd p{fd, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(left_ms));
      if (r < 0 && errno != EINTR) return NetError("poll", errno);
      if (r <= 0) continue;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, timed ? MSG_DONTWAIT : 0);
    if (n == 0) return Status::Closed("connection closed by peer");
    if (n < 0) {
      if (errno == EINTR || (timed && errno == EAGAIN)) continue;
      return NetError("recv", errno);
    }
    decoder->Feed(std::string_view(buf, static_cast<size_t>(n)));
  }
}

std::string PeerName(int fd) {
  sockaddr_in sa;
  socklen_t len = sizeof sa;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return "unknown peer";
  return SockaddrName(sa);
}

void CloseFd(int fd) {
  if (fd >= 0) ::close(fd);
}

}  // namespace baton::proto
