// Unix SOCK_SEQPACKET sockets that carry file descriptors (SCM_RIGHTS): the ZDS transport between
// the CNI node agent (listens) and ztunnel (connects). Every socket is non-blocking and
// close-on-exec; "would block" is a return value, never an exception, so JS drives them from an
// FdWatcher. A zero-length packet cannot be told from end of stream, so sending one is refused.
#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "netsys.h"

namespace netsys {
namespace {

// The kernel's limit of descriptors in one SCM_RIGHTS message (SCM_MAX_FD).
constexpr size_t kMaxFds = 253;

sockaddr_un UnixAddress(Napi::Env env, const std::string& what, const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    throw Napi::TypeError::New(env, what + ": the socket path must have 1 to " +
                                        std::to_string(sizeof(addr.sun_path) - 1) + " bytes");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

std::string PathArg(const Napi::CallbackInfo& info, const char* fn) {
  if (!info[0].IsString()) {
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": the socket path must be a string");
  }
  return info[0].As<Napi::String>().Utf8Value();
}

std::string Describe(const char* fn, int fd) {
  return std::string(fn) + "(fd " + std::to_string(fd) + ")";
}

// seqpacketListen(path, backlog) -> fd
Napi::Value Listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = PathArg(info, "seqpacketListen");
  uint32_t backlog = Uint32Arg(info, 1, "seqpacketListen", "backlog");
  std::string what = "seqpacketListen(" + path + ")";
  sockaddr_un addr = UnixAddress(env, what, path);
  UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) ThrowErrno(env, what, "socket", errno);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ThrowErrno(env, what, "bind", errno);
  }
  if (listen(fd.get(), static_cast<int>(backlog)) != 0) ThrowErrno(env, what, "listen", errno);
  return Napi::Number::New(env, fd.release());
}

// seqpacketAccept(listenFd) -> fd, or null when no connection is waiting
Napi::Value Accept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "seqpacketAccept");
  int conn = accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (conn < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    ThrowErrno(env, Describe("seqpacketAccept", fd), "accept4", errno);
  }
  return Napi::Number::New(env, conn);
}

// seqpacketConnect(path) -> fd (a unix connect completes at once or fails)
Napi::Value Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = PathArg(info, "seqpacketConnect");
  std::string what = "seqpacketConnect(" + path + ")";
  sockaddr_un addr = UnixAddress(env, what, path);
  UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) ThrowErrno(env, what, "socket", errno);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    ThrowErrno(env, what, "connect", err,
               err == EAGAIN ? "the listener's backlog is full, try again" : "");
  }
  return Napi::Number::New(env, fd.release());
}

// seqpacketSend(fd, data: Uint8Array, fds: number[]) -> true when sent, false when it would block
Napi::Value Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "seqpacketSend");
  std::string what = Describe("seqpacketSend", fd);
  if (!info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(env, what + ": data must be a Buffer or Uint8Array");
  }
  Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
  if (data.ByteLength() == 0) {
    throw Napi::TypeError::New(env, what + ": an empty packet cannot be told from end of stream");
  }
  std::vector<int> fds;
  if (!info[2].IsUndefined()) {
    if (!info[2].IsArray()) throw Napi::TypeError::New(env, what + ": fds must be an array");
    Napi::Array list = info[2].As<Napi::Array>();
    if (list.Length() > kMaxFds) {
      throw Napi::TypeError::New(env, what + ": at most " + std::to_string(kMaxFds) +
                                          " fds fit in one message");
    }
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Value v = list.Get(i);
      if (!v.IsNumber() || v.As<Napi::Number>().DoubleValue() < 0 ||
          v.As<Napi::Number>().DoubleValue() != v.As<Napi::Number>().Int32Value()) {
        throw Napi::TypeError::New(env, what + ": fds must hold integers >= 0");
      }
      fds.push_back(v.As<Napi::Number>().Int32Value());
    }
  }

  iovec iov{data.Data(), data.ByteLength()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control;
  if (!fds.empty()) {
    control.assign(CMSG_SPACE(fds.size() * sizeof(int)), 0);
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), fds.data(), fds.size() * sizeof(int));
  }
  if (sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
    ThrowErrno(env, what, "sendmsg", errno);
  }
  return Napi::Boolean::New(env, true);
}

// seqpacketRecv(fd) -> { data: Buffer, fds: number[] } | 'again' (nothing waiting) | 'end'
Napi::Value Recv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "seqpacketRecv");
  std::string what = Describe("seqpacketRecv", fd);

  // The size of the next packet, without taking it.
  ssize_t size = recv(fd, nullptr, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
  if (size < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::String::New(env, "again");
    ThrowErrno(env, what, "recv", errno);
  }
  if (size == 0) return Napi::String::New(env, "end");

  Napi::Buffer<uint8_t> data = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(size));
  iovec iov{data.Data(), data.Length()};
  alignas(cmsghdr) char control[CMSG_SPACE(kMaxFds * sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (n < 0) ThrowErrno(env, what, "recvmsg", errno);

  Napi::Array fds = Napi::Array::New(env);
  uint32_t count = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < k; i++) {
      int received;
      std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      fds.Set(count++, Napi::Number::New(env, received));
    }
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("data", data);
  out.Set("fds", fds);
  return out;
}

}  // namespace

void InitSeqpacket(Napi::Env env, Napi::Object exports) {
  exports.Set("seqpacketListen", Napi::Function::New(env, Listen, "seqpacketListen"));
  exports.Set("seqpacketAccept", Napi::Function::New(env, Accept, "seqpacketAccept"));
  exports.Set("seqpacketConnect", Napi::Function::New(env, Connect, "seqpacketConnect"));
  exports.Set("seqpacketSend", Napi::Function::New(env, Send, "seqpacketSend"));
  exports.Set("seqpacketRecv", Napi::Function::New(env, Recv, "seqpacketRecv"));
}

}  // namespace netsys
