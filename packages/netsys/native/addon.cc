// Module entry point: gathers the functions of every concern into one exports object.
#include "netsys.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  netsys::InitFdWatcher(env, exports);
  netsys::InitNetns(env, exports);
  netsys::InitOriginalDst(env, exports);
  netsys::InitSeqpacket(env, exports);
  netsys::InitSockopt(env, exports);
  netsys::InitUdpHandover(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(netsys, Init)
