// bpf_object.cc - see bpf_object.h.
#include "bpf_object.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bpf_link.h"
#include "bpf_map.h"
#include "errors.h"
#include "libbpf_log.h"
#include "system.h"
#include "test_run.h"

namespace xlb {
namespace {

// Size of the kernel log buffer, bytes. The kernel (6.4+) keeps the tail of
// a longer log, which is where the verifier's reason is, and fails the load
// with ENOSPC. Untouched pages of this buffer are never committed.
constexpr size_t kKernelLogSize = 16u << 20;

// testRun's default room after the input packet, bytes (encapsulation).
constexpr uint32_t kTestRunHeadroom = 512;

// Global-variable sections libbpf turns into internal maps.
bool IsGlobalSection(const char* sec) {
  return std::strcmp(sec, ".rodata") == 0 || std::strcmp(sec, ".data") == 0 ||
         std::strcmp(sec, ".bss") == 0 || std::strncmp(sec, ".rodata.", 8) == 0 ||
         std::strncmp(sec, ".data.", 6) == 0;
}

// Runs bpf_object__load on a libuv worker thread. Execute() only touches the
// raw libbpf object and the worker's own log buffer; OnOK() runs on the JS
// thread and settles the promise. `self_` keeps the BpfObject alive (and
// busy_ keeps every other method away from it) until then.
class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, BpfObject* obj, struct bpf_object* raw,
             Napi::Object self)
      : Napi::AsyncWorker(env, "xlb:LoadWorker"),
        obj_(obj),
        raw_(raw),
        self_(Napi::Persistent(self)),
        deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    LibbpfLogCapture capture(&log_);
    err_ = bpf_object__load(raw_);
  }

  // Must not throw: when the environment is being torn down (a worker thread
  // exiting mid-load), Node still runs this completion but refuses to settle
  // promises, and an exception escaping here would abort the process.
  void OnOK() override {
    Napi::Env env = Env();
    obj_->SetBusy(false);
    try {
      obj_->FinishLoad(env, err_, log_);
      deferred_.Resolve(env.Undefined());
    } catch (const Napi::Error& e) {
      Reject(e);
    }
  }

  void OnError(const Napi::Error& e) override {  // Execute never SetError()s
    obj_->SetBusy(false);
    Reject(e);
  }

 private:
  void Reject(const Napi::Error& e) {
    try {
      deferred_.Reject(e.Value());
    } catch (const Napi::Error&) {
      // The env is going away: nobody is left to observe the promise.
    }
  }

  BpfObject* obj_;
  struct bpf_object* raw_;
  Napi::ObjectReference self_;
  Napi::Promise::Deferred deferred_;
  std::string log_;
  int err_ = 0;
};

}  // namespace

Napi::Function BpfObject::Init(Napi::Env env) {
  return DefineClass(
      env, "BpfObject",
      {
          InstanceAccessor<&BpfObject::JS_name>("name"),
          InstanceMethod<&BpfObject::JS_mapNames>("mapNames"),
          InstanceMethod<&BpfObject::JS_programNames>("programNames"),
          InstanceMethod<&BpfObject::JS_setMapMaxEntries>("setMapMaxEntries"),
          InstanceMethod<&BpfObject::JS_setMapFlags>("setMapFlags"),
          InstanceMethod<&BpfObject::JS_setGlobal>("setGlobal"),
          InstanceMethod<&BpfObject::JS_reuseMap>("reuseMap"),
          InstanceMethod<&BpfObject::JS_load>("load"),
          InstanceMethod<&BpfObject::JS_loadAsync>("loadAsync"),
          InstanceMethod<&BpfObject::JS_map>("map"),
          InstanceMethod<&BpfObject::JS_programFd>("programFd"),
          InstanceMethod<&BpfObject::JS_attachXdp>("attachXdp"),
          InstanceMethod<&BpfObject::JS_attachTcx>("attachTcx"),
          InstanceMethod<&BpfObject::JS_testRun>("testRun"),
          InstanceMethod<&BpfObject::JS_close>("close"),
      });
}

// new BpfObject(path, { kernelLogLevel }?)
//
// kernelLogLevel defaults to 0: programs load without a verifier log, and
// only a failed load is retried by libbpf at level 1 into our buffer. That
// keeps the log of every failure while a successful load neither pays for
// logging nor risks ENOSPC from a log longer than the buffer. 1 or 2 asks
// for the log from the first attempt (e.g. to read verifier statistics).
BpfObject::BpfObject(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<BpfObject>(info), addon_(Addon::From(info.Env())) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "new BpfObject: path");
  uint32_t logLevel = 0;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    if (!info[1].IsObject()) ThrowType(env, "new BpfObject: options must be an object");
    Napi::Value level = info[1].As<Napi::Object>().Get("kernelLogLevel");
    if (!level.IsUndefined()) {
      if (!level.IsNumber()) {
        ThrowType(env, "new BpfObject: options.kernelLogLevel must be a number");
      }
      logLevel = level.As<Napi::Number>().Uint32Value();
    }
  }

  logBuf_.reset(new char[kKernelLogSize]);
  logBuf_[0] = '\0';
  struct bpf_object_open_opts opts = {};
  opts.sz = sizeof(opts);
  opts.kernel_log_buf = logBuf_.get();
  opts.kernel_log_size = kKernelLogSize;
  opts.kernel_log_level = logLevel;

  std::string log;
  struct bpf_object* obj;
  int err;
  {
    LibbpfLogCapture capture(&log);
    obj = bpf_object__open_file(path.c_str(), &opts);
    err = obj ? 0 : -errno;
  }
  if (obj == nullptr) {
    Napi::Error e = ErrnoError(env, err, "bpf_object__open_file", "", path);
    if (!log.empty()) SetStringProp(e, "libbpfLog", log);
    throw e;
  }

  obj_ = obj;
  name_ = bpf_object__name(obj);
  struct bpf_map* map;
  bpf_object__for_each_map(map, obj) { maps_.emplace_back(bpf_map__name(map), map); }
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    programs_.push_back(Program{bpf_program__name(prog), prog, -1});
  }
  addon_->live.insert(this);
}

BpfObject::~BpfObject() { CloseHandles(); }

void BpfObject::CloseHandles() {
  if (obj_ == nullptr) return;
  addon_->live.erase(this);
  if (busy_) {
    // Only reachable from the env cleanup hook while a LoadWorker thread is
    // inside libbpf with this object: leak it rather than free it under the
    // worker's feet (the process is going away).
    obj_ = nullptr;
    return;
  }
  std::set<BpfMap*> children;
  children.swap(children_);
  for (BpfMap* child : children) child->CloseHandles();
  bpf_object__close(obj_);
  obj_ = nullptr;
  logBuf_.reset();
  maps_.clear();
  programs_.clear();
  scratch_ = std::vector<uint8_t>();
}

void BpfObject::EnsureUsable(Napi::Env env, const char* method) const {
  if (obj_ == nullptr) {
    ThrowState(env, std::string("bpfObject.") + method + ": object is closed");
  }
  if (busy_) {
    ThrowState(env, std::string("bpfObject.") + method + ": a load is in progress");
  }
}

void BpfObject::EnsureLoaded(Napi::Env env, const char* method) const {
  EnsureUsable(env, method);
  if (!loaded_) {
    ThrowState(env, std::string("bpfObject.") + method + ": object is not loaded");
  }
}

void BpfObject::EnsureNotLoaded(Napi::Env env, const char* method) const {
  EnsureUsable(env, method);
  if (loaded_) {
    ThrowState(env, std::string("bpfObject.") + method + ": object is already loaded");
  }
}

struct bpf_map* BpfObject::FindMap(Napi::Env env, const std::string& name) const {
  for (const auto& entry : maps_) {
    if (entry.first == name) return entry.second;
  }
  // ".rodata", ".bss", ...: libbpf matches the ELF section name.
  if (!name.empty() && name[0] == '.') {
    if (struct bpf_map* map = bpf_object__find_map_by_name(obj_, name.c_str())) {
      return map;
    }
  }
  ThrowErrno(env, ENOENT, "bpf_object__find_map_by_name",
             "no map '" + name + "' in " + name_);
}

BpfObject::Program& BpfObject::FindProgram(Napi::Env env, const char* name) {
  for (Program& p : programs_) {
    if (p.name == name) return p;
  }
  ThrowErrno(env, ENOENT, "bpf_object__find_program_by_name",
             std::string("no program '") + name + "' in " + name_);
}

int BpfObject::ProgramFdFast(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  if (!info[i].IsString()) ThrowType(env, "bpfObject.testRun: prog must be a string");
  char name[128];
  size_t len = 0;
  napi_status status = napi_get_value_string_utf8(env, info[i], name, sizeof(name), &len);
  if (status != napi_ok) throw Napi::Error::New(env);
  if (len + 1 >= sizeof(name)) {  // longer than any BPF program name
    return FindProgram(env, info[i].As<Napi::String>().Utf8Value().c_str()).fd;
  }
  for (const Program& p : programs_) {
    if (std::strcmp(p.name.c_str(), name) == 0) return p.fd;
  }
  return FindProgram(env, name).fd;  // throws ENOENT
}

Napi::Value BpfObject::JS_name(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), name_);
}

Napi::Value BpfObject::JS_mapNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureUsable(env, "mapNames");
  Napi::Array names = Napi::Array::New(env, maps_.size());
  for (uint32_t i = 0; i < maps_.size(); i++) names.Set(i, maps_[i].first);
  return names;
}

Napi::Value BpfObject::JS_programNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureUsable(env, "programNames");
  Napi::Array names = Napi::Array::New(env, programs_.size());
  for (uint32_t i = 0; i < programs_.size(); i++) names.Set(i, programs_[i].name);
  return names;
}

Napi::Value BpfObject::JS_setMapMaxEntries(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureNotLoaded(env, "setMapMaxEntries");
  std::string name = StringArg(info, 0, "bpfObject.setMapMaxEntries: map");
  uint32_t n = Uint32Arg(info, 1, "bpfObject.setMapMaxEntries: n");
  int err = bpf_map__set_max_entries(FindMap(env, name), n);
  if (err) ThrowErrno(env, err, "bpf_map__set_max_entries", name);
  return env.Undefined();
}

Napi::Value BpfObject::JS_setMapFlags(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureNotLoaded(env, "setMapFlags");
  std::string name = StringArg(info, 0, "bpfObject.setMapFlags: map");
  uint32_t flags = Uint32Arg(info, 1, "bpfObject.setMapFlags: flags");
  int err = bpf_map__set_map_flags(FindMap(env, name), flags);
  if (err) ThrowErrno(env, err, "bpf_map__set_map_flags", name);
  return env.Undefined();
}

// setGlobal(name, value): the VAR is found by name in the object's BTF, then
// in the DATASEC of .rodata/.data/.bss (or .rodata.*/.data.*) that lists it;
// its secinfo gives offset and size in that section's internal map. Only
// before load (after it, .rodata is frozen and mapped read-only).
Napi::Value BpfObject::JS_setGlobal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureNotLoaded(env, "setGlobal");
  std::string name = StringArg(info, 0, "bpfObject.setGlobal: name");
  Napi::Buffer<uint8_t> value = AnyBufferArg(info, 1, "bpfObject.setGlobal: value");

  const struct btf* btf = bpf_object__btf(obj_);
  if (btf == nullptr) {
    ThrowErrno(env, ENOENT, "bpf_object__btf", name_ + " has no BTF (build it with -g)");
  }
  int id = btf__find_by_name_kind(btf, name.c_str(), BTF_KIND_VAR);
  if (id < 0) {
    ThrowErrno(env, id, "btf__find_by_name_kind", "no global variable '" + name + "'");
  }
  const char* section = nullptr;
  const struct btf_var_secinfo* var = nullptr;
  for (__u32 t = 1; t < btf__type_cnt(btf) && var == nullptr; t++) {
    const struct btf_type* type = btf__type_by_id(btf, t);
    if (!btf_is_datasec(type)) continue;
    const char* sec = btf__name_by_offset(btf, type->name_off);
    if (sec == nullptr || !IsGlobalSection(sec)) continue;
    const struct btf_var_secinfo* vs = btf_var_secinfos(type);
    for (__u16 i = 0; i < btf_vlen(type); i++) {
      if (vs[i].type == static_cast<__u32>(id)) {
        section = sec;
        var = &vs[i];
        break;
      }
    }
  }
  if (var == nullptr) {
    ThrowErrno(env, ENOENT, "btf__find_by_name_kind",
               "'" + name + "' is not in .rodata, .data or .bss");
  }
  if (value.Length() != var->size) {
    ThrowType(env, "bpfObject.setGlobal: value for '" + name +
                       "' must be a Buffer of " + std::to_string(var->size) + " bytes");
  }
  struct bpf_map* map = bpf_object__find_map_by_name(obj_, section);
  if (map == nullptr) ThrowErrno(env, ENOENT, "bpf_object__find_map_by_name", section);
  size_t size = 0;
  const void* initial = bpf_map__initial_value(map, &size);
  if (initial == nullptr || static_cast<size_t>(var->offset) + var->size > size) {
    ThrowErrno(env, EINVAL, "bpf_map__initial_value", section);
  }
  // Written through libbpf's setter (a copy of the section), which also
  // checks the size against the section.
  std::vector<uint8_t> image(static_cast<const uint8_t*>(initial),
                             static_cast<const uint8_t*>(initial) + size);
  std::memcpy(image.data() + var->offset, value.Data(), var->size);
  int err = bpf_map__set_initial_value(map, image.data(), size);
  if (err) ThrowErrno(env, err, "bpf_map__set_initial_value", name);
  return env.Undefined();
}

// reuseMap(map, pinPath): the object will use the pinned map instead of
// creating one. bpf_map__reuse_fd itself does not check compatibility, so
// this does what libbpf's pin_path reuse does (map_is_reuse_compat): type,
// key and value size, max_entries and flags must all match, else EINVAL
// with the mismatch in the message.
Napi::Value BpfObject::JS_reuseMap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureNotLoaded(env, "reuseMap");
  std::string name = StringArg(info, 0, "bpfObject.reuseMap: map");
  std::string pinPath = StringArg(info, 1, "bpfObject.reuseMap: pinPath");
  struct bpf_map* map = FindMap(env, name);

  int fd = OpenPin(env, pinPath, "map");
  BpfMapInit pinned;
  int err = QueryMapInfo(fd, &pinned);
  if (err) {
    ::close(fd);
    ThrowErrno(env, err, "bpf_obj_get_info_by_fd", "", pinPath);
  }
  struct Field {
    const char* what;
    __u32 pinned, wanted;
  } fields[] = {
      {"type", pinned.type, static_cast<__u32>(bpf_map__type(map))},
      {"key_size", pinned.keySize, bpf_map__key_size(map)},
      {"value_size", pinned.valueSize, bpf_map__value_size(map)},
      {"max_entries", pinned.maxEntries, bpf_map__max_entries(map)},
      {"map_flags", pinned.flags, bpf_map__map_flags(map)},
  };
  for (const Field& f : fields) {
    if (f.pinned != f.wanted) {
      ::close(fd);
      ThrowErrno(env, EINVAL, "bpf_map__reuse_fd",
                 "pinned map " + pinPath + " does not match map '" + name + "': " + f.what +
                     " " + std::to_string(f.pinned) + " != " + std::to_string(f.wanted),
                 pinPath);
    }
  }
  err = bpf_map__reuse_fd(map, fd);  // dups fd
  ::close(fd);
  if (err) ThrowErrno(env, err, "bpf_map__reuse_fd", name, pinPath);
  return env.Undefined();
}

int BpfObject::LoadInKernel() { return bpf_object__load(obj_); }

void BpfObject::FinishLoad(Napi::Env env, int err, const std::string& libbpfLog) {
  std::string verifierLog;
  if (err && logBuf_) verifierLog.assign(logBuf_.get(), strnlen(logBuf_.get(), kKernelLogSize));
  logBuf_.reset();
  if (obj_ == nullptr) return;  // closed by env teardown meanwhile
  if (err == 0) {
    loaded_ = true;
    for (Program& p : programs_) p.fd = bpf_program__fd(p.prog);
    return;
  }
  Napi::Error e = ErrnoError(env, err, "bpf_object__load");
  SetStringProp(e, "verifierLog", verifierLog);
  SetStringProp(e, "libbpfLog", libbpfLog);
  throw e;
}

Napi::Value BpfObject::JS_load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureNotLoaded(env, "load");
  std::string log;
  int err;
  {
    LibbpfLogCapture capture(&log);
    err = LoadInKernel();
  }
  FinishLoad(env, err, log);
  return env.Undefined();
}

Napi::Value BpfObject::JS_loadAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureNotLoaded(env, "loadAsync");
  auto* worker = new LoadWorker(env, this, obj_, Value());
  busy_ = true;
  worker->Queue();
  return worker->Promise();
}

Napi::Value BpfObject::JS_map(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureLoaded(env, "map");
  std::string name = StringArg(info, 0, "bpfObject.map: name");
  struct bpf_map* map = FindMap(env, name);
  BpfMapInit init;
  init.fd = bpf_map__fd(map);
  init.owned = false;
  init.parent = this;
  init.parentObj = Value();
  init.name = name;
  int err = QueryMapInfo(init.fd, &init);
  if (err) ThrowErrno(env, err, "bpf_obj_get_info_by_fd", name);
  return BpfMap::Create(env, init);
}

Napi::Value BpfObject::JS_programFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureLoaded(env, "programFd");
  std::string name = StringArg(info, 0, "bpfObject.programFd: name");
  return Napi::Number::New(env, FindProgram(env, name.c_str()).fd);
}

// attachXdp(prog, ifindex, mode): a BPF_XDP link (kernel 5.9+). For links
// the kernel takes only the mode bits in link_create.flags (XDP_FLAGS_MODES:
// DRV, SKB, HW; 0 = driver if supported, else generic), so all three modes
// work on a veth. The ifindex is resolved in the calling thread's netns.
Napi::Value BpfObject::JS_attachXdp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureLoaded(env, "attachXdp");
  std::string name = StringArg(info, 0, "bpfObject.attachXdp: prog");
  uint32_t ifindex = Uint32Arg(info, 1, "bpfObject.attachXdp: ifindex");
  std::string mode = StringArg(info, 2, "bpfObject.attachXdp: mode");
  __u32 flags;
  if (mode == "native") {
    flags = XDP_FLAGS_DRV_MODE;
  } else if (mode == "generic") {
    flags = XDP_FLAGS_SKB_MODE;
  } else if (mode == "auto") {
    flags = 0;
  } else {
    ThrowType(env, "bpfObject.attachXdp: mode must be 'native', 'generic' or 'auto'");
  }
  return CreateLink(env, name, ifindex, BPF_XDP, flags, "xdp", "mode " + mode);
}

// bpf_link_create(prog, ifindex, type) with `flags`; a BpfLink, or the errno
// (with what libbpf printed) thrown. `kind` and `how` go in the message.
Napi::Value BpfObject::CreateLink(Napi::Env env, const std::string& name, uint32_t ifindex,
                                  int type, uint32_t flags, const char* kind,
                                  const std::string& how) {
  int progFd = FindProgram(env, name.c_str()).fd;
  std::string log;
  int fd;
  {
    LibbpfLogCapture capture(&log);
    struct bpf_link_create_opts opts = {};
    opts.sz = sizeof(opts);
    opts.flags = flags;
    fd = bpf_link_create(progFd, static_cast<int>(ifindex),
                         static_cast<enum bpf_attach_type>(type), &opts);
  }
  if (fd < 0) {
    Napi::Error e = ErrnoError(env, fd, "bpf_link_create",
                               std::string(kind) + " prog '" + name + "' on ifindex " +
                                   std::to_string(ifindex) + ", " + how);
    if (!log.empty()) SetStringProp(e, "libbpfLog", log);
    throw e;
  }
  return BpfLink::Create(env, fd, "");
}

// BPF_TCX_INGRESS / BPF_TCX_EGRESS (Linux 6.6). Spelled out: the system
// UAPI headers may predate them; libbpf's bpf_link_create() passes an attach
// type it does not know through unchanged.
static constexpr int kTcxIngress = 46;
static constexpr int kTcxEgress = 47;

// attachTcx(prog, ifindex, direction): a tcx link (kernel 6.6+) of a "tc"
// program at the device's ingress or egress; it runs after the programs
// already attached there. The ifindex is resolved in the calling thread's
// netns.
Napi::Value BpfObject::JS_attachTcx(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureLoaded(env, "attachTcx");
  std::string name = StringArg(info, 0, "bpfObject.attachTcx: prog");
  uint32_t ifindex = Uint32Arg(info, 1, "bpfObject.attachTcx: ifindex");
  std::string direction = StringArg(info, 2, "bpfObject.attachTcx: direction");
  int type;
  if (direction == "ingress") {
    type = kTcxIngress;
  } else if (direction == "egress") {
    type = kTcxEgress;
  } else {
    ThrowType(env, "bpfObject.attachTcx: direction must be 'ingress' or 'egress'");
  }
  return CreateLink(env, name, ifindex, type, 0, "tc", direction);
}

// testRun(prog, { data, repeat?, ingressIfindex?, rxQueueIndex?, dataOutSize? })
// Synchronous, on the calling thread (see RunXdpTest). Per call it allocates
// only the result object and the returned Buffer.
Napi::Value BpfObject::JS_testRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureLoaded(env, "testRun");
  int progFd = ProgramFdFast(info, 0);
  if (!info[1].IsObject()) ThrowType(env, "bpfObject.testRun: opts must be an object");
  Napi::Object opts = info[1].As<Napi::Object>();
  Napi::Value dataV = opts.Get("data");
  if (!dataV.IsBuffer()) ThrowType(env, "bpfObject.testRun: opts.data must be a Buffer");
  Napi::Buffer<uint8_t> data = dataV.As<Napi::Buffer<uint8_t>>();
  auto optU32 = [&](const char* key, const char* what, uint32_t dflt, bool* given) {
    Napi::Value v = opts.Get(key);
    if (given != nullptr) *given = !v.IsUndefined();
    if (v.IsUndefined()) return dflt;
    if (!v.IsNumber()) ThrowType(env, std::string("bpfObject.testRun: ") + what + " must be a number");
    return v.As<Napi::Number>().Uint32Value();
  };
  uint32_t len = static_cast<uint32_t>(data.Length());
  bool withCtx = false;
  uint32_t repeat = optU32("repeat", "opts.repeat", 1, nullptr);
  uint32_t ingress = optU32("ingressIfindex", "opts.ingressIfindex", 0, &withCtx);
  uint32_t rxQueue = optU32("rxQueueIndex", "opts.rxQueueIndex", 0, nullptr);
  uint32_t flags = optU32("flags", "opts.flags", 0, nullptr);
  uint32_t batchSize = optU32("batchSize", "opts.batchSize", 0, nullptr);
  uint32_t outSize =
      optU32("dataOutSize", "opts.dataOutSize", len + kTestRunHeadroom, nullptr);
  if (scratch_.size() < outSize) scratch_.resize(outSize);

  TestRunOut out;
  int err = RunXdpTest(progFd, data.Data(), len, scratch_.data(), outSize, repeat,
                       withCtx, ingress, rxQueue, flags, batchSize, &out);
  if (err) ThrowErrno(env, err, "bpf_prog_test_run_opts");
  Napi::Object result = Napi::Object::New(env);
  result.Set("retval", Napi::Number::New(env, out.retval));
  result.Set("data", Napi::Buffer<uint8_t>::Copy(env, scratch_.data(), out.sizeOut));
  result.Set("duration", Napi::Number::New(env, out.duration));
  return result;
}

Napi::Value BpfObject::JS_close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (busy_ && obj_ != nullptr) ThrowState(env, "bpfObject.close: a load is in progress");
  CloseHandles();
  return env.Undefined();
}

}  // namespace xlb
