// addon.cc - module entry: one Addon per env, the classes, the functions.
#include "addon.h"

#include <vector>

#include "bfd_echo.h"
#include "bpf_link.h"
#include "bpf_map.h"
#include "bpf_object.h"
#include "ethtool.h"
#include "libbpf_log.h"
#include "link_socket.h"
#include "probe_engine.h"
#include "raw_socket.h"
#include "system.h"

namespace xlb {

// Env cleanup hook. Registered after napi's own teardown hook, so it runs
// before the instance-data finalizer deletes the Addon (hooks run in reverse
// order). Closes every live handle; objects close their maps first.
void Addon::Cleanup(Addon* addon) {
  std::vector<Closable*> all(addon->live.begin(), addon->live.end());
  for (Closable* c : all) c->CloseHandles();  // idempotent; children may repeat
  addon->live.clear();
}

}  // namespace xlb

namespace {

Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  using namespace xlb;
  InstallLibbpfPrint();
  auto* addon = new Addon();
  env.SetInstanceData<Addon>(addon);
  env.AddCleanupHook(Addon::Cleanup, addon);

  Napi::Function object = BpfObject::Init(env);
  Napi::Function map = BpfMap::Init(env);
  Napi::Function link = BpfLink::Init(env);
  addon->bpfObjectCtor = Napi::Persistent(object);
  addon->bpfMapCtor = Napi::Persistent(map);
  addon->bpfLinkCtor = Napi::Persistent(link);
  exports.Set("BpfObject", object);
  exports.Set("BpfMap", map);
  exports.Set("BpfLink", link);
  exports.Set("RawSocket", RawSocket::Init(env));
  exports.Set("TcpConnect", TcpConnect::Init(env));
  Napi::Function target = TcpTarget::Init(env);
  addon->tcpTargetCtor = Napi::Persistent(target);
  exports.Set("TcpTarget", target);
  exports.Set("ProbeEngine", ProbeEngine::Init(env));
  exports.Set("LinkSocket", LinkSocket::Init(env));
  exports.Set("BfdEchoTx", BfdEchoTx::Init(env));
  InitSystem(env, exports);
  InitEthtool(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(xlb_native, InitAll)
