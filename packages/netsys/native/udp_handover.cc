// Handing a UDP port over between SO_REUSEPORT sockets without losing datagrams: the old socket
// leaves the group's share of new datagrams (connected to its own address: the kernel spreads a
// group's datagrams over its unconnected sockets only, and a socket connected to itself matches
// nobody's), then reads what it had already queued (SIOCINQ says when that is done), then closes.
// The socket can still reply with sendto: Linux takes an explicit address on a connected UDP socket.
#include <errno.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "netsys.h"

namespace netsys {

namespace {

// udpLeaveReusePort(fd): connects the UDP socket to the address it is bound to.
Napi::Value UdpLeaveReusePortJs(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "udpLeaveReusePort");
  sockaddr_storage self{};
  socklen_t len = sizeof(self);
  std::string what = "udpLeaveReusePort(fd " + std::to_string(fd) + ")";
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&self), &len) != 0) {
    ThrowErrno(info.Env(), what, "getsockname", errno);
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&self), len) != 0) {
    ThrowErrno(info.Env(), what, "connect", errno);
  }
  return info.Env().Undefined();
}

// udpQueued(fd) -> the size of the next datagram waiting to be read (0: none).
Napi::Value UdpQueuedJs(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "udpQueued");
  int bytes = 0;
  if (ioctl(fd, SIOCINQ, &bytes) != 0) {
    ThrowErrno(info.Env(), "udpQueued(fd " + std::to_string(fd) + ")", "ioctl(SIOCINQ)", errno);
  }
  return Napi::Number::New(info.Env(), bytes);
}

}  // namespace

void InitUdpHandover(Napi::Env env, Napi::Object exports) {
  exports.Set("udpLeaveReusePort", Napi::Function::New(env, UdpLeaveReusePortJs, "udpLeaveReusePort"));
  exports.Set("udpQueued", Napi::Function::New(env, UdpQueuedJs, "udpQueued"));
}

}  // namespace netsys
