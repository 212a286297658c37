// bpf_map.h - BpfMap: one BPF map, by fd (H-22).
//
// Ownership: a map from BpfMap.fromPin() owns its fd and closes it. A map
// from bpfObject.map() borrows the object's fd: it holds a strong reference
// to the parent's JS object (so the object outlives it) and is closed by the
// parent, first, when the parent closes.
#ifndef XLB_NATIVE_BPF_MAP_H
#define XLB_NATIVE_BPF_MAP_H

#include <napi.h>

#include <cstdint>
#include <string>

#include "addon.h"

namespace xlb {

class BpfObject;

// Everything a BpfMap is built from. Filled (kernel info included) before the
// JS constructor runs, so construction cannot fail half-way.
struct BpfMapInit {
  int fd = -1;
  bool owned = false;            // close fd on close()
  BpfObject* parent = nullptr;   // set for maps of a BpfObject (fd borrowed)
  Napi::Object parentObj;        // the parent's JS object
  std::string name;
  uint32_t type = 0;
  uint32_t keySize = 0;
  uint32_t valueSize = 0;
  uint32_t maxEntries = 0;
  uint32_t flags = 0;
};

// Fills init->{name,type,keySize,valueSize,maxEntries,flags} from the kernel
// (bpf_obj_get_info_by_fd). Returns 0 or a negative errno. A non-empty
// init->name is kept (libbpf's untruncated name beats the kernel's 15 chars).
int QueryMapInfo(int fd, BpfMapInit* init);

class BpfMap : public Napi::ObjectWrap<BpfMap>, public Closable {
 public:
  static Napi::Function Init(Napi::Env env);
  // Creates the JS object. Takes over init.fd if init.owned.
  static Napi::Object Create(Napi::Env env, BpfMapInit& init);

  explicit BpfMap(const Napi::CallbackInfo& info);
  ~BpfMap() override;
  void CloseHandles() override;

 private:
  static Napi::Value JS_fromPin(const Napi::CallbackInfo& info);
  Napi::Value JS_name(const Napi::CallbackInfo& info);
  Napi::Value JS_type(const Napi::CallbackInfo& info);
  Napi::Value JS_keySize(const Napi::CallbackInfo& info);
  Napi::Value JS_valueSize(const Napi::CallbackInfo& info);
  Napi::Value JS_maxEntries(const Napi::CallbackInfo& info);
  Napi::Value JS_flags(const Napi::CallbackInfo& info);
  Napi::Value JS_fd(const Napi::CallbackInfo& info);
  Napi::Value JS_perCpu(const Napi::CallbackInfo& info);
  Napi::Value JS_valueBufferSize(const Napi::CallbackInfo& info);
  Napi::Value JS_lookup(const Napi::CallbackInfo& info);
  Napi::Value JS_update(const Napi::CallbackInfo& info);
  Napi::Value JS_delete(const Napi::CallbackInfo& info);
  Napi::Value JS_nextKey(const Napi::CallbackInfo& info);
  Napi::Value JS_lookupBatch(const Napi::CallbackInfo& info);
  Napi::Value JS_updateBatch(const Napi::CallbackInfo& info);
  Napi::Value JS_deleteBatch(const Napi::CallbackInfo& info);
  Napi::Value JS_mmap(const Napi::CallbackInfo& info);
  Napi::Value JS_mmapAsync(const Napi::CallbackInfo& info);
  size_t MmapLength() const;
  Napi::Value JS_pin(const Napi::CallbackInfo& info);
  Napi::Value JS_close(const Napi::CallbackInfo& info);

  // Throws "bpfMap.<method>: map is closed" unless open.
  void EnsureOpen(Napi::Env env, const char* method) const;
  // Size check with the bpfMap.<method>: key message.
  const uint8_t* Key(const Napi::CallbackInfo& info, size_t i,
                     const char* what) const;

  Addon* addon_;
  bool open_ = false;
  int fd_ = -1;
  bool owned_ = false;
  BpfObject* parent_ = nullptr;
  Napi::ObjectReference parentRef_;
  std::string name_;
  uint32_t type_ = 0;
  uint32_t keySize_ = 0;
  uint32_t valueSize_ = 0;
  uint32_t maxEntries_ = 0;
  uint32_t flags_ = 0;
  bool perCpu_ = false;
  // Bytes of one value as user space sees it: valueSize, or possible CPUs x
  // roundup(valueSize, 8) for per-CPU maps.
  size_t valueBufSize_ = 0;
  // Bytes of the lookupBatch in/out token (see lookupBatch in bpf_map.cc).
  size_t batchTokenSize_ = 0;
};

}  // namespace xlb

#endif  // XLB_NATIVE_BPF_MAP_H
