// SO_MARK, IP_TRANSPARENT / IPV6_TRANSPARENT, and the result of a non-blocking connect (SO_ERROR).
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "netsys.h"

namespace netsys {

int SetMark(int fd, uint32_t mark) {
  return setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) == 0 ? 0 : errno;
}

int SetTransparent(int fd, int family, bool on) {
  int value = on ? 1 : 0;
  int rc = family == AF_INET ? setsockopt(fd, SOL_IP, IP_TRANSPARENT, &value, sizeof(value))
                             : setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &value, sizeof(value));
  return rc == 0 ? 0 : errno;
}

namespace {

std::string Describe(const char* fn, int fd) {
  return std::string(fn) + "(fd " + std::to_string(fd) + ")";
}

// setMark(fd, mark)
Napi::Value SetMarkJs(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "setMark");
  uint32_t mark = Uint32Arg(info, 1, "setMark", "mark");
  if (int err = SetMark(fd, mark)) {
    ThrowErrno(info.Env(), Describe("setMark", fd), "setsockopt(SO_MARK)", err);
  }
  return info.Env().Undefined();
}

// getMark(fd) -> number
Napi::Value GetMarkJs(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "getMark");
  uint32_t mark = 0;
  socklen_t len = sizeof(mark);
  if (getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &len) != 0) {
    ThrowErrno(info.Env(), Describe("getMark", fd), "getsockopt(SO_MARK)", errno);
  }
  return Napi::Number::New(info.Env(), mark);
}

// setTransparent(fd, on, family)
Napi::Value SetTransparentJs(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "setTransparent");
  bool on = BoolArg(info, 1, "setTransparent", "on");
  int family = FamilyArg(info, 2, "setTransparent");
  if (int err = SetTransparent(fd, family, on)) {
    ThrowErrno(info.Env(), Describe("setTransparent", fd),
               family == AF_INET ? "setsockopt(IP_TRANSPARENT)" : "setsockopt(IPV6_TRANSPARENT)",
               err);
  }
  return info.Env().Undefined();
}

// getTransparent(fd, family) -> boolean
Napi::Value GetTransparentJs(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "getTransparent");
  int family = FamilyArg(info, 1, "getTransparent");
  int value = 0;
  socklen_t len = sizeof(value);
  int rc = family == AF_INET ? getsockopt(fd, SOL_IP, IP_TRANSPARENT, &value, &len)
                             : getsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &value, &len);
  if (rc != 0) {
    ThrowErrno(info.Env(), Describe("getTransparent", fd),
               family == AF_INET ? "getsockopt(IP_TRANSPARENT)" : "getsockopt(IPV6_TRANSPARENT)",
               errno);
  }
  return Napi::Boolean::New(info.Env(), value != 0);
}

// connectResult(fd, what): after a non-blocking connect became writable, throws the connect error
// (SO_ERROR) as a system error with syscall "connect"; returns nothing when connected.
Napi::Value ConnectResultJs(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "connectResult");
  std::string what = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "connect";
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
    ThrowErrno(info.Env(), what, "getsockopt(SO_ERROR)", errno);
  }
  if (err != 0) ThrowErrno(info.Env(), what, "connect", err);
  return info.Env().Undefined();
}

}  // namespace

void InitSockopt(Napi::Env env, Napi::Object exports) {
  exports.Set("setMark", Napi::Function::New(env, SetMarkJs, "setMark"));
  exports.Set("getMark", Napi::Function::New(env, GetMarkJs, "getMark"));
  exports.Set("setTransparent", Napi::Function::New(env, SetTransparentJs, "setTransparent"));
  exports.Set("getTransparent", Napi::Function::New(env, GetTransparentJs, "getTransparent"));
  exports.Set("connectResult", Napi::Function::New(env, ConnectResultJs, "connectResult"));
}

}  // namespace netsys
