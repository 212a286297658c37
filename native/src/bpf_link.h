// bpf_link.h - BpfLink: a BPF link fd (XDP attachment), H-22.
//
// The link owns its fd. Closing it detaches the program unless the link is
// pinned (a pin keeps the link, and so the attachment, alive).
#ifndef XLB_NATIVE_BPF_LINK_H
#define XLB_NATIVE_BPF_LINK_H

#include <napi.h>

#include <string>

#include "addon.h"

namespace xlb {

class BpfLink : public Napi::ObjectWrap<BpfLink>, public Closable {
 public:
  static Napi::Function Init(Napi::Env env);
  // Creates the JS object; takes over fd. pinPath: where it is pinned, if
  // known ("" otherwise).
  static Napi::Object Create(Napi::Env env, int fd, const std::string& pinPath);

  explicit BpfLink(const Napi::CallbackInfo& info);
  ~BpfLink() override;
  void CloseHandles() override;

 private:
  static Napi::Value JS_fromPin(const Napi::CallbackInfo& info);
  Napi::Value JS_fd(const Napi::CallbackInfo& info);
  Napi::Value JS_pin(const Napi::CallbackInfo& info);
  Napi::Value JS_unpin(const Napi::CallbackInfo& info);
  Napi::Value JS_update(const Napi::CallbackInfo& info);
  Napi::Value JS_detach(const Napi::CallbackInfo& info);
  Napi::Value JS_close(const Napi::CallbackInfo& info);

  void EnsureOpen(Napi::Env env, const char* method) const;

  Addon* addon_;
  bool open_ = false;
  int fd_ = -1;
  std::string pinPath_;
};

}  // namespace xlb

#endif  // XLB_NATIVE_BPF_LINK_H
