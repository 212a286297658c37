// polled_socket.cc - see polled_socket.h.
//
// The members are defined here, not in the header, and instantiated at the
// bottom for the two sockets that use them: the lifecycle is compiled once
// per class and the header stays a declaration to read.
#include "polled_socket.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "errors.h"
#include "link_socket.h"
#include "raw_socket.h"
#include "socket_util.h"

namespace xlb {

template <typename T>
PolledSocket<T>::PolledSocket(const Napi::CallbackInfo& info, const char* prefix,
                              const char* resource)
    : Napi::ObjectWrap<T>(info),
      addon_(Addon::From(info.Env())),
      prefix_(prefix),
      resource_(resource) {}

template <typename T>
PolledSocket<T>::~PolledSocket() {
  CloseHandles();
}

template <typename T>
Napi::Function PolledSocket<T>::DefineSocketClass(Napi::Env env, const char* name,
                                                  std::initializer_list<Property> own) {
  // These handlers are members of this base, not of T. A pointer to one
  // converts to a pointer to a member of T, but not as a template argument
  // (GCC wants the form &T::name there), so they go through the overloads
  // that take the pointer at run time: node-addon-api keeps it in the
  // property's data, freed with the class. The JS side cannot tell.
  using Wrap = Napi::ObjectWrap<T>;
  std::vector<Property> props;
  props.reserve(own.size() + 6);
  props.push_back(Wrap::InstanceAccessor("fd", &PolledSocket::JS_fd, nullptr));
  props.push_back(Wrap::InstanceMethod("setOption", &PolledSocket::JS_setOption));
  props.push_back(Wrap::InstanceMethod("getOption", &PolledSocket::JS_getOption));
  props.insert(props.end(), own.begin(), own.end());
  props.push_back(Wrap::InstanceMethod("start", &PolledSocket::JS_start));
  props.push_back(Wrap::InstanceMethod("stop", &PolledSocket::JS_stop));
  props.push_back(Wrap::InstanceMethod("close", &PolledSocket::JS_close));
  return Wrap::DefineClass(env, name, props);
}

template <typename T>
void PolledSocket<T>::OpenSocket(Napi::Env env, int domain, int type, int protocol,
                                 const std::string& detail) {
  loop_ = EventLoop(env);
  int fd = ::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) ThrowErrno(env, errno, "socket", detail);
  fd_ = fd;
  open_ = true;
  addon_->live.insert(this);
}

template <typename T>
void PolledSocket<T>::StopPolling() {
  if (!polling_) return;
  polling_ = false;
  poll_.Stop();
  callback_.Reset();
  asyncContext_.reset();
  this->Unref();
}

template <typename T>
void PolledSocket<T>::CloseHandles() {
  if (!open_) return;
  open_ = false;
  addon_->live.erase(this);
  StopPolling();
  poll_.Close();  // before close(fd): libuv must not poll a closed fd
  ::close(fd_);
  fd_ = -1;
}

template <typename T>
void PolledSocket<T>::EnsureOpen(Napi::Env env, const char* method) const {
  if (!open_) ThrowState(env, std::string(prefix_) + "." + method + ": socket is closed");
}

template <typename T>
Napi::Value PolledSocket<T>::JS_fd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), fd_);
}

// setOption(level, name, value): setsockopt with an int, or with the bytes
// of a Buffer (struct options such as ICMP6_FILTER or packet_mreq).
template <typename T>
Napi::Value PolledSocket<T>::JS_setOption(const Napi::CallbackInfo& info) {
  EnsureOpen(info.Env(), "setOption");
  return SetOptionJs(info, fd_, prefix_);
}

// getOption(level, name): getsockopt of an int option.
template <typename T>
Napi::Value PolledSocket<T>::JS_getOption(const Napi::CallbackInfo& info) {
  EnsureOpen(info.Env(), "getOption");
  return GetOptionJs(info, fd_, prefix_);
}

// start(callback(err, events)): calls back on the event loop when the
// socket is readable (events = UV_READABLE = 1; read with recv() until it
// returns null) or when the kernel reports a socket error (err set, events
// 0; polling goes on). Calling start() again replaces the callback.
template <typename T>
Napi::Value PolledSocket<T>::JS_start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "start");
  if (!info[0].IsFunction()) {
    ThrowType(env, std::string(prefix_) + ".start: callback must be a function");
  }
  int err = poll_.Start(loop_, fd_, UV_READABLE, OnPoll, this);
  if (err != 0) ThrowErrno(env, err, "uv_poll_start");
  callback_ = Napi::Persistent(info[0].As<Napi::Function>());
  if (!asyncContext_) asyncContext_ = std::make_shared<Napi::AsyncContext>(env, resource_);
  if (!polling_) {
    polling_ = true;
    this->Ref();
  }
  return env.Undefined();
}

template <typename T>
Napi::Value PolledSocket<T>::JS_stop(const Napi::CallbackInfo& info) {
  StopPolling();
  return info.Env().Undefined();
}

template <typename T>
Napi::Value PolledSocket<T>::JS_close(const Napi::CallbackInfo& info) {
  CloseHandles();
  return info.Env().Undefined();
}

template <typename T>
void PolledSocket<T>::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<PolledSocket*>(handle->data);
  if (self == nullptr || !self->polling_) return;
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  Napi::Value err = env.Null();
  bool keep = true;
  if (status < 0) {
    // libuv stopped the handle on POLLERR (UV_EBADF). If the socket had an
    // error pending, report it and poll on; anything else ends polling.
    Napi::Value pending = self->TakeSocketError(env);
    if (!pending.IsEmpty()) {
      err = pending;
      keep = self->poll_.Start(self->loop_, self->fd_, UV_READABLE, OnPoll, self) == 0;
    } else {
      err = ErrnoError(env, status, "uv_poll").Value();
      keep = false;
    }
    events = 0;
  }
  Napi::Object recv = self->Value();
  Napi::Function fn = self->callback_.Value();
  std::shared_ptr<Napi::AsyncContext> ctx = self->asyncContext_;  // survives stop() in fn
  if (!keep) self->StopPolling();  // may drop the last reference: self is not used below
  CallFromLoop(env, fn, recv, {err, Napi::Number::New(env, events)}, *ctx);
}

template class PolledSocket<RawSocket>;
template class PolledSocket<LinkSocket>;

}  // namespace xlb
