// socketInNetns: creates a TCP or UDP socket inside another network namespace. The calling thread
// enters the target namespace with setns, creates, configures, binds and then listens on or
// connects (non-blocking) the socket, and always returns to its own namespace before anything can
// throw. A socket keeps the namespace it was created in, so Node can use the fd from anywhere.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>

#include "netsys.h"

namespace netsys {
namespace {

constexpr const char* kFn = "socketInNetns";
constexpr int kDefaultBacklog = 511;  // as Node's net.Server

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string text;  // "host:port" for messages
};

struct Spec {
  int family = AF_INET;
  int type = SOCK_STREAM;
  std::optional<uint32_t> mark;
  bool transparent = false;
  bool reuseAddr = false;
  bool reusePort = false;
  std::optional<bool> ipv6Only;
  std::optional<Address> bind;
  std::optional<int> backlog;  // set: listen after bind
  std::optional<Address> connect;
};

struct Failure {
  std::string syscall;
  int err = 0;
};

[[noreturn]] void Invalid(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, std::string(kFn) + ": " + message);
}

std::optional<Napi::Value> Field(Napi::Object options, const char* name) {
  Napi::Value v = options.Get(name);
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  return v;
}

uint32_t ToUint(Napi::Env env, Napi::Value v, const std::string& name, double max) {
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (d >= 0 && d <= max && static_cast<double>(static_cast<uint64_t>(d)) == d) {
      return static_cast<uint32_t>(d);
    }
  }
  Invalid(env,
          name + " must be an integer from 0 to " + std::to_string(static_cast<uint64_t>(max)));
}

bool ToBool(Napi::Env env, Napi::Value v, const std::string& name) {
  if (!v.IsBoolean()) Invalid(env, name + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

Address ToAddress(Napi::Env env, Napi::Value v, int family, const std::string& name) {
  if (!v.IsObject()) Invalid(env, name + " must be an object { host, port }");
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value hostValue = o.Get("host");
  if (!hostValue.IsString()) Invalid(env, name + ".host must be a string");
  std::string host = hostValue.As<Napi::String>().Utf8Value();
  uint16_t port = static_cast<uint16_t>(ToUint(env, o.Get("port"), name + ".port", 65535));
  Address a;
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&a.storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    if (inet_pton(AF_INET, host.c_str(), &sin->sin_addr) != 1) {
      Invalid(env, name + ".host '" + host + "' is not an IPv4 address");
    }
    a.length = sizeof(sockaddr_in);
    a.text = host + ":" + std::to_string(port);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    if (inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) != 1) {
      Invalid(env, name + ".host '" + host + "' is not an IPv6 address");
    }
    a.length = sizeof(sockaddr_in6);
    a.text = "[" + host + "]:" + std::to_string(port);
  }
  return a;
}

// Reads { type, family, mark?, transparent?, reuseAddr?, reusePort?, ipv6Only?,
// bind?: {host, port}, listen?: {host, port, backlog?}, connect?: {host, port} }.
Spec ParseSpec(Napi::Env env, Napi::Value value) {
  if (!value.IsObject()) Invalid(env, "options must be an object");
  Napi::Object o = value.As<Napi::Object>();
  Spec s;
  std::string type = o.Get("type").IsString() ? o.Get("type").As<Napi::String>().Utf8Value() : "";
  if (type == "tcp") {
    s.type = SOCK_STREAM;
  } else if (type == "udp") {
    s.type = SOCK_DGRAM;
  } else {
    Invalid(env, "type must be 'tcp' or 'udp'");
  }
  Napi::Value family = o.Get("family");
  if (family.IsNumber() && family.As<Napi::Number>().DoubleValue() == 4) {
    s.family = AF_INET;
  } else if (family.IsNumber() && family.As<Napi::Number>().DoubleValue() == 6) {
    s.family = AF_INET6;
  } else {
    Invalid(env, "family must be 4 or 6");
  }
  if (auto v = Field(o, "mark")) s.mark = ToUint(env, *v, "mark", UINT32_MAX);
  if (auto v = Field(o, "transparent")) s.transparent = ToBool(env, *v, "transparent");
  if (auto v = Field(o, "reuseAddr")) s.reuseAddr = ToBool(env, *v, "reuseAddr");
  if (auto v = Field(o, "reusePort")) s.reusePort = ToBool(env, *v, "reusePort");
  if (auto v = Field(o, "ipv6Only")) {
    if (s.family != AF_INET6) Invalid(env, "ipv6Only applies to family 6 only");
    s.ipv6Only = ToBool(env, *v, "ipv6Only");
  }
  if (auto v = Field(o, "bind")) s.bind = ToAddress(env, *v, s.family, "bind");
  if (auto v = Field(o, "listen")) {
    if (s.type != SOCK_STREAM) Invalid(env, "listen needs type 'tcp'");
    if (s.bind) Invalid(env, "give listen or bind, not both");
    s.bind = ToAddress(env, *v, s.family, "listen");
    Napi::Value backlog = v->As<Napi::Object>().Get("backlog");
    s.backlog = backlog.IsUndefined()
                    ? kDefaultBacklog
                    : static_cast<int>(ToUint(env, backlog, "listen.backlog", 65535));
  }
  if (auto v = Field(o, "connect")) {
    if (s.backlog) Invalid(env, "a socket cannot both listen and connect");
    s.connect = ToAddress(env, *v, s.family, "connect");
  }
  return s;
}

int SetInt(int fd, int level, int option, int value) {
  return setsockopt(fd, level, option, &value, sizeof(value)) == 0 ? 0 : errno;
}

// Listeners sharing a port by SO_REUSEPORT are how a new process takes over from an old one (a
// ztunnel upgrade): when the old one closes its listener, connections the kernel had already queued
// on it (handshake done, not yet accepted) are reset, unless net.ipv4.tcp_migrate_req (Linux 5.14+,
// per network namespace) moves them to another listener of the group. Set here, in the namespace
// the thread is in; best effort (an older kernel has no such file and keeps the reset).
void MigrateRequestsOnClose() {
  int fd = open("/proc/sys/net/ipv4/tcp_migrate_req", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t ignored = write(fd, "1", 1);
  (void)ignored;
  close(fd);
}

// Runs inside the target namespace. Returns the fd, or -1 with `failure` set; never throws.
int CreateSocket(const Spec& s, Failure& failure) {
  UniqueFd fd(socket(s.family, s.type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) {
    failure = {"socket", errno};
    return -1;
  }
  int err = 0;
  if (s.reuseAddr && (err = SetInt(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1))) {
    failure = {"setsockopt(SO_REUSEADDR)", err};
    return -1;
  }
  if (s.reusePort && (err = SetInt(fd.get(), SOL_SOCKET, SO_REUSEPORT, 1))) {
    failure = {"setsockopt(SO_REUSEPORT)", err};
    return -1;
  }
  if (s.ipv6Only && (err = SetInt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, *s.ipv6Only ? 1 : 0))) {
    failure = {"setsockopt(IPV6_V6ONLY)", err};
    return -1;
  }
  if (s.mark && (err = SetMark(fd.get(), *s.mark))) {
    failure = {"setsockopt(SO_MARK)", err};
    return -1;
  }
  if (s.transparent && (err = SetTransparent(fd.get(), s.family, true))) {
    failure = {s.family == AF_INET ? "setsockopt(IP_TRANSPARENT)" : "setsockopt(IPV6_TRANSPARENT)",
               err};
    return -1;
  }
  if (s.bind &&
      bind(fd.get(), reinterpret_cast<const sockaddr*>(&s.bind->storage), s.bind->length) != 0) {
    failure = {"bind " + s.bind->text, errno};
    return -1;
  }
  if (s.backlog && listen(fd.get(), *s.backlog) != 0) {
    failure = {"listen " + s.bind->text, errno};
    return -1;
  }
  if (s.backlog && s.reusePort) MigrateRequestsOnClose();
  if (s.connect &&
      connect(fd.get(), reinterpret_cast<const sockaddr*>(&s.connect->storage),
              s.connect->length) != 0 &&
      errno != EINPROGRESS) {
    failure = {"connect " + s.connect->text, errno};
    return -1;
  }
  return fd.release();
}

std::string Hint(const Failure& f) {
  if (f.err == EADDRNOTAVAIL && f.syscall.rfind("bind", 0) == 0) {
    return "the address is not assigned in that network namespace (transparent allows a "
           "non-local address)";
  }
  if (f.err == EPERM && f.syscall.rfind("setsockopt", 0) == 0) return "needs CAP_NET_ADMIN";
  return "";
}

// socketInNetns(netns: string path | fd number, spec) -> fd
Napi::Value SocketInNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  int targetFd = -1;
  if (info[0].IsString()) {
    path = info[0].As<Napi::String>().Utf8Value();
    if (path.empty()) Invalid(env, "the network namespace path is empty");
  } else if (info[0].IsNumber()) {
    targetFd = FdArg(info, 0, kFn);
  } else {
    Invalid(env, "the network namespace must be a path (string) or a file descriptor (number)");
  }
  Spec spec = ParseSpec(env, info[1]);
  std::string target = path.empty() ? "fd " + std::to_string(targetFd) : path;
  std::string what = std::string(kFn) + "(" + target + ")";

  UniqueFd original(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (original.get() < 0) ThrowErrno(env, what, "open /proc/thread-self/ns/net", errno);
  UniqueFd opened(path.empty() ? -1 : open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!path.empty()) {
    if (opened.get() < 0) {
      int err = errno;
      ThrowErrno(env, what, "open", err, err == ENOENT ? "no such network namespace" : "");
    }
    targetFd = opened.get();
  }
  if (setns(targetFd, CLONE_NEWNET) != 0) {
    int err = errno;
    std::string hint = err == EINVAL ? "not a network namespace"
                       : err == EPERM  ? "needs CAP_SYS_ADMIN"
                                       : "";
    ThrowErrno(env, what, "setns", err, hint);
  }
  Failure failure;
  int fd = CreateSocket(spec, failure);
  if (setns(original.get(), CLONE_NEWNET) != 0) {
    // Carrying on in the wrong namespace would silently misroute every later socket.
    Napi::Error::Fatal(kFn, "cannot return to the original network namespace");
  }
  if (fd < 0) ThrowErrno(env, what, failure.syscall, failure.err, Hint(failure));
  return Napi::Number::New(env, fd);
}

}  // namespace

void InitNetns(Napi::Env env, Napi::Object exports) {
  exports.Set("socketInNetns", Napi::Function::New(env, SocketInNetns, "socketInNetns"));
}

}  // namespace netsys
