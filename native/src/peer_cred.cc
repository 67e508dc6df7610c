// SO_PEERCRED of a connected unix-domain socket.
//
// The JavaScript side (src/index.ts) takes the fd from `socket._handle.fd`;
// here we make sure that fd really is a connected AF_UNIX stream socket,
// because on other sockets Linux answers SO_PEERCRED with pid 0 and uid/gid
// -1 instead of failing, which must never be mistaken for an identity.
#include <cerrno>
#include <cstring>
#include <string>

#include <sys/socket.h>
#include <sys/un.h>

#include "jmp_native.h"

namespace jmp {

namespace {

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

Napi::Value PeerCredFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    throw Napi::TypeError::New(env, "peerCredFd: expected a file descriptor (number)");
  }
  const double raw = info[0].As<Napi::Number>().DoubleValue();
  if (!(raw >= 0 && raw <= 0x7fffffff) || raw != static_cast<double>(static_cast<int>(raw))) {
    throw Napi::TypeError::New(env,
                               "peerCredFd: the file descriptor must be a non-negative integer");
  }
  const int fd = static_cast<int>(raw);

  sockaddr_storage addr{};
  socklen_t addr_len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) {
    throw Napi::Error::New(env,
                           "peerCred: " + Errno("getsockname") + " (is the socket still open?)");
  }
  if (addr.ss_family != AF_UNIX) {
    throw Napi::Error::New(env, "peerCred: not a unix-domain socket (family " +
                                    std::to_string(addr.ss_family) +
                                    "); peer credentials exist only for AF_UNIX");
  }
  int type = 0;
  socklen_t type_len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) != 0) {
    throw Napi::Error::New(env, "peerCred: " + Errno("getsockopt(SO_TYPE)"));
  }
  if (type != SOCK_STREAM && type != SOCK_SEQPACKET) {
    throw Napi::Error::New(env, "peerCred: not a connection-oriented unix socket");
  }

  sockaddr_storage peer{};
  socklen_t peer_len = sizeof peer;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) {
    // ENOTCONN for a listening or unconnected socket: it has no peer.
    throw Napi::Error::New(
        env, "peerCred: the socket has no connected peer (" + Errno("getpeername") + ")");
  }

  ucred cred{};
  socklen_t cred_len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) != 0) {
    throw Napi::Error::New(env, "peerCred: " + Errno("getsockopt(SO_PEERCRED)"));
  }
  if (cred_len != sizeof cred || cred.pid <= 0) {
    throw Napi::Error::New(env, "peerCred: the kernel reported no credentials for the peer");
  }

  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, cred.pid));
  out.Set("uid", Napi::Number::New(env, cred.uid));
  out.Set("gid", Napi::Number::New(env, cred.gid));
  return out;
}

}  // namespace jmp
