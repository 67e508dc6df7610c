// jmp-native: shared declarations of the addon's parts.
#pragma once

#include <napi.h>

namespace jmp {

// peerCredFd(fd: number) -> {pid, uid, gid}: SO_PEERCRED of a connected
// unix-domain stream socket. Throws for anything else.
Napi::Value PeerCredFd(const Napi::CallbackInfo& info);

// pamAuthenticate(options) -> Promise<result>: drives libpam off the main
// thread. See src/index.ts for the JavaScript-facing contract.
Napi::Value PamAuthenticate(const Napi::CallbackInfo& info);

}  // namespace jmp
