// polled_socket.h - PolledSocket<T>: the JS-facing life of one non-blocking
// socket fd watched with uv_poll, shared by RawSocket (raw_socket.h) and
// LinkSocket (link_socket.h) (DESIGN §3, H-22):
//
//   fd, setOption, getOption   the fd and its generic int/Buffer options
//   start(callback)            readiness on the event loop; while started the
//                              wrapper holds a reference to itself, so a
//                              socket the loop can still call is not collected
//   stop(), close()            idempotent, also from inside the callback
//   GC, env teardown           close as close() does (a Closable in
//                              Addon::live)
//
// T derives from PolledSocket<T> (so the ObjectWrap is T's) and brings only
// what its family needs: its constructor checks its options and calls
// OpenSocket(); its Init() hands its own methods to DefineSocketClass(); it
// says what POLLERR means for its sockets (TakeSocketError). CloseHandles
// is final: ~PolledSocket runs it after T's members are gone, so it must
// not need them.
#ifndef XLB_NATIVE_POLLED_SOCKET_H
#define XLB_NATIVE_POLLED_SOCKET_H

#include <napi.h>
#include <uv.h>

#include <initializer_list>
#include <memory>
#include <string>

#include "addon.h"
#include "uv_poll.h"

namespace xlb {

template <typename T>
class PolledSocket : public Napi::ObjectWrap<T>, public Closable {
 public:
  ~PolledSocket() override;
  // Stops polling (dropping the callback and the self-reference start()
  // took), then closes the fd. Idempotent.
  void CloseHandles() final;

 protected:
  using Property = Napi::ClassPropertyDescriptor<T>;

  // prefix names an instance in messages ("rawSocket.start: ..."); resource
  // names the async resource the callbacks run in ("xlb:RawSocket"). Both
  // must be string literals: they are kept, not copied.
  PolledSocket(const Napi::CallbackInfo& info, const char* prefix, const char* resource);

  // DefineClass(name) with fd, setOption and getOption, then `own`, then
  // start, stop and close: the prototype's property order stays the one
  // both classes had before they shared this code.
  static Napi::Function DefineSocketClass(Napi::Env env, const char* name,
                                          std::initializer_list<Property> own);

  // For T's constructor, once its options are checked:
  // socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol). From here
  // on the socket is open and env teardown closes it. detail is added to the
  // message of a failing socket() (none when empty).
  void OpenSocket(Napi::Env env, int domain, int type, int protocol,
                  const std::string& detail = std::string());

  // Throws "<prefix>.<method>: socket is closed" unless open.
  void EnsureOpen(Napi::Env env, const char* method) const;

  // The socket; -1 once closed. Owned here: T reads it, never closes it.
  int fd_ = -1;

 private:
  // libuv stopped the handle on POLLERR. Reads (and so clears) what the
  // kernel reported and returns it as the error for the callback; polling
  // then goes on. An empty Value means nothing was pending: polling ends
  // with the uv_poll error instead.
  virtual Napi::Value TakeSocketError(Napi::Env env) = 0;

  Napi::Value JS_fd(const Napi::CallbackInfo& info);
  Napi::Value JS_setOption(const Napi::CallbackInfo& info);
  Napi::Value JS_getOption(const Napi::CallbackInfo& info);
  Napi::Value JS_start(const Napi::CallbackInfo& info);
  Napi::Value JS_stop(const Napi::CallbackInfo& info);
  Napi::Value JS_close(const Napi::CallbackInfo& info);

  static void OnPoll(uv_poll_t* handle, int status, int events);
  // Drops the callback and the self-reference; the poll handle stays.
  void StopPolling();

  Addon* addon_;
  const char* prefix_;
  const char* resource_;
  bool open_ = false;
  uv_loop_t* loop_ = nullptr;
  UvPoll poll_;
  // Set while started (start() .. stop()/close()): the JS callback, the
  // async context it runs in, and a strong reference to this object, so a
  // polling socket is not collected while the loop can still call it.
  bool polling_ = false;
  Napi::FunctionReference callback_;
  // Shared so that OnPoll keeps it alive while stop()/close() run inside
  // the callback that uses it.
  std::shared_ptr<Napi::AsyncContext> asyncContext_;
};

}  // namespace xlb

#endif  // XLB_NATIVE_POLLED_SOCKET_H
