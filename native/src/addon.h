// addon.h - per-environment state of the xlb native addon (H-22).
//
// Layer: the kernel-facing edge of xlb. The addon moves bytes (Buffer in,
// Buffer out) between JS and libbpf/syscalls; it never interprets struct
// fields and makes no policy decisions (DESIGN §1, STYLE H-14).
#ifndef XLB_NATIVE_ADDON_H
#define XLB_NATIVE_ADDON_H

#include <napi.h>

#include <set>

namespace xlb {

// Anything that owns a kernel handle and must be closed at env teardown.
class Closable {
 public:
  virtual ~Closable() = default;
  // Releases the native handles. Idempotent. Whenever an open Closable is
  // destroyed or closed, it must first be erased from Addon::live.
  virtual void CloseHandles() = 0;
};

// One Addon per napi_env (the main thread and each worker_thread get their
// own). Stored as env instance data; its cleanup hook closes every live
// handle before the environment goes away. After Cleanup() no wrapper touches
// the Addon again: they are all closed, and closed wrappers never look at it.
struct Addon {
  Napi::FunctionReference bpfObjectCtor;
  Napi::FunctionReference bpfMapCtor;
  Napi::FunctionReference bpfLinkCtor;
  // ProbeEngine.connect checks its argument against it.
  Napi::FunctionReference tcpTargetCtor;
  // Every open wrapper (BpfObject, BpfMap, BpfLink, sockets, ProbeEngine).
  std::set<Closable*> live;

  static Addon* From(Napi::Env env) { return env.GetInstanceData<Addon>(); }
  static void Cleanup(Addon* addon);
};

}  // namespace xlb

#endif  // XLB_NATIVE_ADDON_H
