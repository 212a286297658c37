// socket_util.cc - see socket_util.h.
#include "socket_util.h"

#include <errno.h>
#include <sys/socket.h>

#include <string>

#include "errors.h"

namespace xlb {

uv_loop_t* EventLoop(Napi::Env env) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    ThrowState(env, "cannot get the event loop");
  }
  return loop;
}

int SocketError(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

void CallFromLoop(Napi::Env env, const Napi::Function& fn, const Napi::Object& recv,
                  const std::initializer_list<napi_value>& args, const Napi::AsyncContext& ctx) {
  try {
    fn.MakeCallback(recv, args, ctx);
  } catch (const Napi::Error& e) {
    napi_fatal_exception(env, e.Value());
  }
}

Napi::Value SetOptionJs(const Napi::CallbackInfo& info, int fd, const char* cls) {
  Napi::Env env = info.Env();
  std::string what = std::string(cls) + ".setOption: ";
  int32_t level = Int32Arg(info, 0, (what + "level").c_str());
  int32_t name = Int32Arg(info, 1, (what + "name").c_str());
  int rc;
  if (info[2].IsBuffer()) {
    Napi::Buffer<uint8_t> value = info[2].As<Napi::Buffer<uint8_t>>();
    rc = setsockopt(fd, level, name, value.Data(), static_cast<socklen_t>(value.Length()));
  } else if (info[2].IsNumber()) {
    int value = info[2].As<Napi::Number>().Int32Value();
    rc = setsockopt(fd, level, name, &value, sizeof(value));
  } else {
    ThrowType(env, what + "value must be a number or a Buffer");
  }
  if (rc != 0) {
    ThrowErrno(env, errno, "setsockopt",
               "level " + std::to_string(level) + " name " + std::to_string(name));
  }
  return env.Undefined();
}

Napi::Value GetOptionJs(const Napi::CallbackInfo& info, int fd, const char* cls) {
  Napi::Env env = info.Env();
  std::string what = std::string(cls) + ".getOption: ";
  int32_t level = Int32Arg(info, 0, (what + "level").c_str());
  int32_t name = Int32Arg(info, 1, (what + "name").c_str());
  int value = 0;
  socklen_t len = sizeof(value);
  if (getsockopt(fd, level, name, &value, &len) != 0) {
    ThrowErrno(env, errno, "getsockopt",
               "level " + std::to_string(level) + " name " + std::to_string(name));
  }
  return Napi::Number::New(env, value);
}

}  // namespace xlb
