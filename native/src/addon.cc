// jmp-native: Node-API entry point. Only wiring; each export lives in its own unit.
#include "jmp_native.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("peerCredFd", Napi::Function::New(env, jmp::PeerCredFd, "peerCredFd"));
  exports.Set("pamAuthenticate", Napi::Function::New(env, jmp::PamAuthenticate, "pamAuthenticate"));
  return exports;
}

}  // namespace

NODE_API_MODULE(jmp_native, Init)
