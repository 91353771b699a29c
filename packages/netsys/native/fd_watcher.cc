// FdWatcher: tells JS when a file descriptor becomes readable or writable, using a libuv poll
// handle on Node's own event loop, so non-blocking sockets the addon created (SOCK_SEQPACKET, a
// connect in progress) are served without blocking the event loop and without a thread.
//
//   const w = new FdWatcher(fd, (status, readable, writable) => { ... });
//   w.start(readable, writable); w.stop(); w.close();
//
// status is 0 or a negative libuv error (then the watcher has stopped itself). An active watcher
// keeps the process alive, like a listening server. close() must come before the fd is closed.
#include <uv.h>

#include "netsys.h"

namespace netsys {
namespace {

class FdWatcher : public Napi::ObjectWrap<FdWatcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FdWatcher",
                       {InstanceMethod("start", &FdWatcher::Start),
                        InstanceMethod("stop", &FdWatcher::Stop),
                        InstanceMethod("close", &FdWatcher::Close)});
  }

  explicit FdWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FdWatcher>(info) {
    Napi::Env env = info.Env();
    int fd = FdArg(info, 0, "FdWatcher");
    if (!info[1].IsFunction()) {
      throw Napi::TypeError::New(env, "FdWatcher: the callback must be a function");
    }
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
      throw Napi::Error::New(env, "FdWatcher: no event loop");
    }
    handle_ = new uv_poll_t;
    if (int rc = uv_poll_init(loop, handle_, fd)) {
      delete handle_;
      handle_ = nullptr;
      ThrowErrno(env, "FdWatcher(fd " + std::to_string(fd) + ")", "uv_poll_init", -rc);
    }
    handle_->data = this;
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "netsys.FdWatcher");
  }

  ~FdWatcher() override { CloseHandle(); }

 private:
  // start(readable: boolean, writable: boolean): watch for these events (replaces the previous
  // choice); both false is the same as stop().
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bool readable = BoolArg(info, 0, "FdWatcher.start", "readable");
    bool writable = BoolArg(info, 1, "FdWatcher.start", "writable");
    if (handle_ == nullptr) throw Napi::Error::New(env, "FdWatcher.start: the watcher is closed");
    if (!readable && !writable) return Stop(info);
    int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
    if (int rc = uv_poll_start(handle_, events, OnPoll)) {
      ThrowErrno(env, "FdWatcher.start", "uv_poll_start", -rc);
    }
    SetActive(true);
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_poll_stop(handle_);
    SetActive(false);
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseHandle();
    SetActive(false);
    return info.Env().Undefined();
  }

  // While watching, the JS object must stay alive for the callback to reach it.
  void SetActive(bool active) {
    if (active && !active_) Ref();
    if (!active && active_) Unref();
    active_ = active;
  }

  void CloseHandle() {
    if (handle_ == nullptr) return;
    uv_close(reinterpret_cast<uv_handle_t*>(handle_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    handle_ = nullptr;
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<FdWatcher*>(handle->data);
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    Napi::Object keepAlive = self->Value();  // SetActive(false) may drop the last reference
    if (status < 0) self->SetActive(false);  // libuv stopped the handle
    try {
      self->callback_.MakeCallback(keepAlive,
                                   {Napi::Number::New(env, status),
                                    Napi::Boolean::New(env, (events & UV_READABLE) != 0),
                                    Napi::Boolean::New(env, (events & UV_WRITABLE) != 0)},
                                   *self->context_);
    } catch (const Napi::Error& e) {
      // Nothing in JS called us: report the exception like any uncaught one.
      napi_fatal_exception(env, e.Value());
    }
  }

  uv_poll_t* handle_ = nullptr;
  bool active_ = false;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

}  // namespace

void InitFdWatcher(Napi::Env env, Napi::Object exports) {
  exports.Set("FdWatcher", FdWatcher::Define(env));
}

}  // namespace netsys
