// bpf_link.cc - see bpf_link.h.
#include "bpf_link.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cerrno>

#include "errors.h"
#include "system.h"

namespace xlb {
namespace {

// What BpfLink::Create hands to the JS constructor.
struct BpfLinkInit {
  int fd;
  std::string pinPath;
};

}  // namespace

Napi::Function BpfLink::Init(Napi::Env env) {
  return DefineClass(env, "BpfLink",
                     {
                         StaticMethod<&BpfLink::JS_fromPin>("fromPin"),
                         InstanceAccessor<&BpfLink::JS_fd>("fd"),
                         InstanceMethod<&BpfLink::JS_pin>("pin"),
                         InstanceMethod<&BpfLink::JS_unpin>("unpin"),
                         InstanceMethod<&BpfLink::JS_update>("update"),
                         InstanceMethod<&BpfLink::JS_detach>("detach"),
                         InstanceMethod<&BpfLink::JS_close>("close"),
                     });
}

Napi::Object BpfLink::Create(Napi::Env env, int fd, const std::string& pinPath) {
  BpfLinkInit init{fd, pinPath};
  try {
    return Addon::From(env)->bpfLinkCtor.New(
        {Napi::External<BpfLinkInit>::New(env, &init)});
  } catch (...) {
    ::close(fd);
    throw;
  }
}

BpfLink::BpfLink(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<BpfLink>(info), addon_(Addon::From(info.Env())) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    ThrowType(info.Env(),
              "BpfLink cannot be constructed directly: use BpfLink.fromPin() "
              "or bpfObject.attachXdp()");
  }
  BpfLinkInit* init = info[0].As<Napi::External<BpfLinkInit>>().Data();
  fd_ = init->fd;
  pinPath_ = init->pinPath;
  open_ = true;
  addon_->live.insert(this);
}

BpfLink::~BpfLink() { CloseHandles(); }

void BpfLink::CloseHandles() {
  if (!open_) return;
  open_ = false;
  addon_->live.erase(this);
  ::close(fd_);
  fd_ = -1;
}

void BpfLink::EnsureOpen(Napi::Env env, const char* method) const {
  if (!open_) ThrowState(env, std::string("bpfLink.") + method + ": link is closed");
}

Napi::Value BpfLink::JS_fromPin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "BpfLink.fromPin: path");
  int fd = OpenPin(env, path, "link");
  return Create(env, fd, path);
}

Napi::Value BpfLink::JS_fd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), fd_);
}

Napi::Value BpfLink::JS_pin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "pin");
  std::string path = StringArg(info, 0, "bpfLink.pin: path");
  int err = bpf_obj_pin(fd_, path.c_str());
  if (err) ThrowErrno(env, err, "bpf_obj_pin", "", path);
  pinPath_ = path;
  return env.Undefined();
}

// Removes the pin this link was pinned at (or opened from). Like libbpf's
// bpf_link__unpin, EINVAL when the link has no known pin.
Napi::Value BpfLink::JS_unpin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "unpin");
  if (pinPath_.empty()) ThrowErrno(env, EINVAL, "unlink", "link is not pinned");
  if (::unlink(pinPath_.c_str()) != 0) ThrowErrno(env, errno, "unlink", "", pinPath_);
  pinPath_.clear();
  return env.Undefined();
}

// Atomically replaces the link's program (bpf_link_update, no old-prog check).
Napi::Value BpfLink::JS_update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "update");
  int32_t progFd = Int32Arg(info, 0, "bpfLink.update: progFd");
  int err = bpf_link_update(fd_, progFd, nullptr);
  if (err) ThrowErrno(env, err, "bpf_link_update");
  return env.Undefined();
}

// Detaches the program; the fd (and any pin) stays, as a defunct link.
Napi::Value BpfLink::JS_detach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "detach");
  int err = bpf_link_detach(fd_);
  if (err) ThrowErrno(env, err, "bpf_link_detach");
  return env.Undefined();
}

Napi::Value BpfLink::JS_close(const Napi::CallbackInfo& info) {
  CloseHandles();
  return info.Env().Undefined();
}

}  // namespace xlb
