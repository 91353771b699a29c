// Shared declarations of the netsys addon: one Init function per concern, argument readers and
// errors shaped like Node's system errors.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace netsys {

// Each concern registers its functions on the module's exports.
void InitFdWatcher(Napi::Env env, Napi::Object exports);
void InitNetns(Napi::Env env, Napi::Object exports);
void InitOriginalDst(Napi::Env env, Napi::Object exports);
void InitSeqpacket(Napi::Env env, Napi::Object exports);
void InitSockopt(Napi::Env env, Napi::Object exports);
void InitUdpHandover(Napi::Env env, Napi::Object exports);

// Throws a JS Error like Node's system errors: `code` ("ENOENT"), `errno` (negative, as in
// Node), `syscall`, and the message "<what>: <syscall> failed: <CODE> (<strerror>)[; <hint>]".
[[noreturn]] void ThrowErrno(Napi::Env env, const std::string& what, const std::string& syscall,
                             int err, const std::string& hint = "");

// Argument readers: throw a TypeError naming the function and the argument when it is wrong.
int FdArg(const Napi::CallbackInfo& info, size_t index, const char* fn);
uint32_t Uint32Arg(const Napi::CallbackInfo& info, size_t index, const char* fn,
                   const char* name);
bool BoolArg(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name);
// 4 -> AF_INET, 6 -> AF_INET6.
int FamilyArg(const Napi::CallbackInfo& info, size_t index, const char* fn);

// Socket options shared by the exported setters and by socketInNetns. They return 0 or errno.
int SetMark(int fd, uint32_t mark);
int SetTransparent(int fd, int family, bool on);

// Closes a file descriptor when it goes out of scope unless released.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

}  // namespace netsys
