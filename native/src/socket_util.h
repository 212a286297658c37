// socket_util.h - helpers of the socket classes (PolledSocket in
// polled_socket.cc, RawSocket, LinkSocket): the env's event loop, the pending
// socket error, calling JS back from a libuv callback, and the generic
// setOption / getOption bodies. Moves bytes only (H-14).
#ifndef XLB_NATIVE_SOCKET_UTIL_H
#define XLB_NATIVE_SOCKET_UTIL_H

#include <napi.h>
#include <uv.h>

#include <initializer_list>

namespace xlb {

// The env's libuv loop (uv_poll handles must live on it).
uv_loop_t* EventLoop(Napi::Env env);

// The pending socket error (SO_ERROR, which reading clears), or errno if
// getsockopt itself fails. For netlink this is how a receive-queue overrun
// (ENOBUFS: messages were lost) is reported.
int SocketError(int fd);

// Calls fn(args...) as a libuv-originated callback: microtasks and
// process.nextTick run after it, async hooks see ctx. A JS exception becomes
// an uncaught exception (there is no JS caller to give it to).
void CallFromLoop(Napi::Env env, const Napi::Function& fn, const Napi::Object& recv,
                  const std::initializer_list<napi_value>& args, const Napi::AsyncContext& ctx);

// setOption(level, name, value) on fd: setsockopt with an int, or with the
// bytes of a Buffer (struct options such as ICMP6_FILTER or packet_mreq).
// `cls` prefixes messages ("rawSocket").
Napi::Value SetOptionJs(const Napi::CallbackInfo& info, int fd, const char* cls);

// getOption(level, name) on fd: getsockopt of an int option.
Napi::Value GetOptionJs(const Napi::CallbackInfo& info, int fd, const char* cls);

}  // namespace xlb

#endif  // XLB_NATIVE_SOCKET_UTIL_H
