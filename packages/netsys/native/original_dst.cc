// The original destination of a connection that iptables REDIRECTed: SO_ORIGINAL_DST for IPv4
// (also on a dual-stack IPv6 socket that accepted an IPv4 connection) and IP6T_SO_ORIGINAL_DST
// for IPv6.
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "netsys.h"

// From <linux/netfilter_ipv6/ip6_tables.h>, which does not compile as C++ beside glibc's headers.
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

namespace netsys {
namespace {

Napi::Object Endpoint(Napi::Env env, int family, const void* addr, uint16_t port_be) {
  char text[INET6_ADDRSTRLEN] = {0};
  inet_ntop(family, addr, text, sizeof(text));
  Napi::Object out = Napi::Object::New(env);
  out.Set("address", Napi::String::New(env, text));
  out.Set("port", Napi::Number::New(env, ntohs(port_be)));
  out.Set("family", Napi::Number::New(env, family == AF_INET ? 4 : 6));
  return out;
}

// originalDst(fd, missingOk) -> { address, port, family }, or null when missingOk and conntrack
// has no entry (a caller with a fallback then pays for no exception on every connection).
Napi::Value OriginalDst(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "originalDst");
  bool missingOk = info.Length() > 1 && info[1].ToBoolean().Value();
  std::string what = "originalDst(fd " + std::to_string(fd) + ")";
  const char* noEntry =
      "no conntrack entry for this connection (it was not redirected, or conntrack is not "
      "active in its network namespace)";

  sockaddr_storage local{};
  socklen_t len = sizeof(local);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) {
    ThrowErrno(env, what, "getsockname", errno);
  }
  bool v4 = local.ss_family == AF_INET;
  if (local.ss_family == AF_INET6) {
    v4 = IN6_IS_ADDR_V4MAPPED(&reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr);
  } else if (!v4) {
    throw Napi::TypeError::New(env, what + ": not an IPv4 or IPv6 socket");
  }

  if (v4) {
    sockaddr_in dst{};
    socklen_t dlen = sizeof(dst);
    if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &dst, &dlen) != 0) {
      int err = errno;
      if (err == ENOENT && missingOk) return env.Null();
      ThrowErrno(env, what, "getsockopt(SO_ORIGINAL_DST)", err, err == ENOENT ? noEntry : "");
    }
    return Endpoint(env, AF_INET, &dst.sin_addr, dst.sin_port);
  }
  sockaddr_in6 dst{};
  socklen_t dlen = sizeof(dst);
  if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &dst, &dlen) != 0) {
    int err = errno;
    if (err == ENOENT && missingOk) return env.Null();
    ThrowErrno(env, what, "getsockopt(IP6T_SO_ORIGINAL_DST)", err, err == ENOENT ? noEntry : "");
  }
  return Endpoint(env, AF_INET6, &dst.sin6_addr, dst.sin6_port);
}

}  // namespace

void InitOriginalDst(Napi::Env env, Napi::Object exports) {
  exports.Set("originalDst", Napi::Function::New(env, OriginalDst, "originalDst"));
}

}  // namespace netsys
