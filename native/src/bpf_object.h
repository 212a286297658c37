// bpf_object.h - BpfObject: one BPF ELF object, opened, configured, loaded
// (H-22, H-23).
//
// Life cycle: open (constructor) -> configure (setMapMaxEntries, setMapFlags,
// setGlobal, reuseMap) -> load()/loadAsync() -> use (map, programFd,
// attachXdp, attachTcx, testRun) -> close(). close() closes the BpfMap
// children first, then the libbpf object. Links made by attachXdp() and
// attachTcx() are independent kernel objects (own fds) and outlive the object.
#ifndef XLB_NATIVE_BPF_OBJECT_H
#define XLB_NATIVE_BPF_OBJECT_H

#include <napi.h>

#include <bpf/libbpf.h>

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "addon.h"

namespace xlb {

class BpfMap;

class BpfObject : public Napi::ObjectWrap<BpfObject>, public Closable {
 public:
  static Napi::Function Init(Napi::Env env);

  explicit BpfObject(const Napi::CallbackInfo& info);
  ~BpfObject() override;
  void CloseHandles() override;

  // Children bookkeeping, called by BpfMap.
  void AddChild(BpfMap* map) { children_.insert(map); }
  void RemoveChild(BpfMap* map) { children_.erase(map); }

  // The kernel part of a load, runnable on any thread (LoadWorker::Execute).
  // Whenever this is used, busy_ must be set beforehand, and FinishLoad must
  // run on the JS thread afterwards. Returns 0 or a negative errno.
  int LoadInKernel();
  // JS thread, after LoadInKernel: frees the verifier log buffer, records the
  // state, and on failure throws the error with verifierLog and libbpfLog.
  void FinishLoad(Napi::Env env, int err, const std::string& libbpfLog);
  void SetBusy(bool busy) { busy_ = busy; }

 private:
  struct Program {
    std::string name;
    struct bpf_program* prog;
    int fd;  // cached after load, -1 before
  };

  Napi::Value JS_name(const Napi::CallbackInfo& info);
  Napi::Value JS_mapNames(const Napi::CallbackInfo& info);
  Napi::Value JS_programNames(const Napi::CallbackInfo& info);
  Napi::Value JS_setMapMaxEntries(const Napi::CallbackInfo& info);
  Napi::Value JS_setMapFlags(const Napi::CallbackInfo& info);
  Napi::Value JS_setGlobal(const Napi::CallbackInfo& info);
  Napi::Value JS_reuseMap(const Napi::CallbackInfo& info);
  Napi::Value JS_load(const Napi::CallbackInfo& info);
  Napi::Value JS_loadAsync(const Napi::CallbackInfo& info);
  Napi::Value JS_map(const Napi::CallbackInfo& info);
  Napi::Value JS_programFd(const Napi::CallbackInfo& info);
  Napi::Value JS_attachXdp(const Napi::CallbackInfo& info);
  Napi::Value JS_attachTcx(const Napi::CallbackInfo& info);
  Napi::Value JS_testRun(const Napi::CallbackInfo& info);
  Napi::Value JS_close(const Napi::CallbackInfo& info);

  // State checks: "bpfObject.<method>: object is closed" / "... a load is in
  // progress" / "... object is not loaded" / "... object is already loaded".
  void EnsureUsable(Napi::Env env, const char* method) const;
  void EnsureLoaded(Napi::Env env, const char* method) const;
  void EnsureNotLoaded(Napi::Env env, const char* method) const;
  // Lookups by the names seen at open time (libbpf renames a map to the
  // kernel's truncated name after bpf_map__reuse_fd). Throw ENOENT.
  struct bpf_map* FindMap(Napi::Env env, const std::string& name) const;
  Program& FindProgram(Napi::Env env, const char* name);
  Napi::Value CreateLink(Napi::Env env, const std::string& name, uint32_t ifindex, int type,
                         uint32_t flags, const char* kind, const std::string& how);
  // The program fd for testRun, found without allocating.
  int ProgramFdFast(const Napi::CallbackInfo& info, size_t i);

  Addon* addon_;
  struct bpf_object* obj_ = nullptr;
  std::string name_;
  // Kernel log buffer handed to libbpf in bpf_object_open_opts; libbpf
  // writes the verifier log of a failed program here. Freed once load ends
  // (libbpf never touches it after bpf_object__load returns).
  std::unique_ptr<char[]> logBuf_;
  bool loaded_ = false;
  bool busy_ = false;  // a LoadWorker is running: every method refuses
  std::vector<std::pair<std::string, struct bpf_map*>> maps_;
  std::vector<Program> programs_;
  std::set<BpfMap*> children_;
  // testRun's output buffer, grown on demand and reused across calls.
  std::vector<uint8_t> scratch_;
};

}  // namespace xlb

#endif  // XLB_NATIVE_BPF_OBJECT_H
