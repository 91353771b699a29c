// System errors, argument readers and the fd guard shared by all concerns.
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>

#include "netsys.h"

namespace netsys {

void ThrowErrno(Napi::Env env, const std::string& what, const std::string& syscall, int err,
                const std::string& hint) {
  const char* name = strerrorname_np(err);
  std::string code = name != nullptr ? name : "E" + std::to_string(err);
  std::string message = what + ": " + syscall + " failed: " + code + " (" + strerror(err) + ")";
  if (!hint.empty()) message += "; " + hint;
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  throw error;
}

int FdArg(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  Napi::Value v = info[index];
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (d >= 0 && d <= INT32_MAX && std::floor(d) == d) return static_cast<int>(d);
  }
  throw Napi::TypeError::New(info.Env(), std::string(fn) +
                                             ": the file descriptor must be an integer >= 0");
}

uint32_t Uint32Arg(const Napi::CallbackInfo& info, size_t index, const char* fn,
                   const char* name) {
  Napi::Value v = info[index];
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (d >= 0 && d <= UINT32_MAX && std::floor(d) == d) return static_cast<uint32_t>(d);
  }
  throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + name +
                                             " must be an integer from 0 to 0xffffffff");
}

bool BoolArg(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  Napi::Value v = info[index];
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value();
  throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + name + " must be a boolean");
}

int FamilyArg(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  Napi::Value v = info[index];
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (d == 4) return AF_INET;
    if (d == 6) return AF_INET6;
  }
  throw Napi::TypeError::New(info.Env(), std::string(fn) + ": family must be 4 or 6");
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace netsys
