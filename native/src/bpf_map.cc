// bpf_map.cc - see bpf_map.h.
#include "bpf_map.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "bpf_object.h"
#include "errors.h"
#include "system.h"

namespace xlb {
namespace {

// Map types whose values are one slot per possible CPU.
bool IsPerCpu(uint32_t type) {
  switch (type) {
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
    case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
      return true;
    default:
      return false;
  }
}

// Map types whose batch ops are kernel/bpf/hashtab.c's
// __htab_map_lookup_and_delete_batch, where in_batch/out_batch is a u32
// bucket index. Every other map with batch ops (array, percpu array) uses
// kernel/bpf/syscall.c's generic_map_lookup_batch, where the token is the
// previous key (key_size bytes).
bool IsHashFamily(uint32_t type) {
  switch (type) {
    case BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
      return true;
    default:
      return false;
  }
}

size_t RoundUp8(size_t n) { return (n + 7) & ~static_cast<size_t>(7); }

// The kernel's per-CPU value layout: each CPU's slot is value_size rounded
// up to 8 bytes (bpf_percpu_array_copy / bpf_percpu_hash_copy).
size_t ValueBufferSize(Napi::Env env, uint32_t type, uint32_t valueSize) {
  if (!IsPerCpu(type)) return valueSize;
  return static_cast<size_t>(PossibleCpus(env)) * RoundUp8(valueSize);
}

}  // namespace

int QueryMapInfo(int fd, BpfMapInit* init) {
  struct bpf_map_info info = {};
  __u32 len = sizeof(info);
  int err = bpf_obj_get_info_by_fd(fd, &info, &len);
  if (err) return err;
  if (init->name.empty()) init->name = info.name;
  init->type = info.type;
  init->keySize = info.key_size;
  init->valueSize = info.value_size;
  init->maxEntries = info.max_entries;
  init->flags = info.map_flags;
  return 0;
}

Napi::Function BpfMap::Init(Napi::Env env) {
  return DefineClass(
      env, "BpfMap",
      {
          StaticMethod<&BpfMap::JS_fromPin>("fromPin"),
          InstanceAccessor<&BpfMap::JS_name>("name"),
          InstanceAccessor<&BpfMap::JS_type>("type"),
          InstanceAccessor<&BpfMap::JS_keySize>("keySize"),
          InstanceAccessor<&BpfMap::JS_valueSize>("valueSize"),
          InstanceAccessor<&BpfMap::JS_maxEntries>("maxEntries"),
          InstanceAccessor<&BpfMap::JS_flags>("flags"),
          InstanceAccessor<&BpfMap::JS_fd>("fd"),
          InstanceAccessor<&BpfMap::JS_perCpu>("perCpu"),
          InstanceAccessor<&BpfMap::JS_valueBufferSize>("valueBufferSize"),
          InstanceMethod<&BpfMap::JS_lookup>("lookup"),
          InstanceMethod<&BpfMap::JS_update>("update"),
          InstanceMethod<&BpfMap::JS_delete>("delete"),
          InstanceMethod<&BpfMap::JS_nextKey>("nextKey"),
          InstanceMethod<&BpfMap::JS_lookupBatch>("lookupBatch"),
          InstanceMethod<&BpfMap::JS_updateBatch>("updateBatch"),
          InstanceMethod<&BpfMap::JS_deleteBatch>("deleteBatch"),
          InstanceMethod<&BpfMap::JS_mmap>("mmap"),
          InstanceMethod<&BpfMap::JS_mmapAsync>("mmapAsync"),
          InstanceMethod<&BpfMap::JS_pin>("pin"),
          InstanceMethod<&BpfMap::JS_close>("close"),
      });
}

Napi::Object BpfMap::Create(Napi::Env env, BpfMapInit& init) {
  try {
    return Addon::From(env)->bpfMapCtor.New(
        {Napi::External<BpfMapInit>::New(env, &init)});
  } catch (...) {
    if (init.owned) ::close(init.fd);
    throw;
  }
}

BpfMap::BpfMap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<BpfMap>(info), addon_(Addon::From(info.Env())) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsExternal()) {
    ThrowType(env,
              "BpfMap cannot be constructed directly: use BpfMap.fromPin() "
              "or bpfObject.map()");
  }
  BpfMapInit* init = info[0].As<Napi::External<BpfMapInit>>().Data();
  // The only step that can throw comes before taking anything over.
  valueBufSize_ = ValueBufferSize(env, init->type, init->valueSize);
  name_ = init->name;
  type_ = init->type;
  keySize_ = init->keySize;
  valueSize_ = init->valueSize;
  maxEntries_ = init->maxEntries;
  flags_ = init->flags;
  perCpu_ = IsPerCpu(type_);
  batchTokenSize_ = IsHashFamily(type_) ? sizeof(uint32_t) : keySize_;
  fd_ = init->fd;
  owned_ = init->owned;
  open_ = true;
  addon_->live.insert(this);
  if (init->parent != nullptr) {
    parent_ = init->parent;
    parent_->AddChild(this);
    parentRef_ = Napi::Persistent(init->parentObj);
  }
}

BpfMap::~BpfMap() { CloseHandles(); }

void BpfMap::CloseHandles() {
  if (!open_) return;
  open_ = false;
  addon_->live.erase(this);
  if (parent_ != nullptr) {
    parent_->RemoveChild(this);
    parent_ = nullptr;
  }
  parentRef_.Reset();
  if (owned_) ::close(fd_);
  fd_ = -1;
}

void BpfMap::EnsureOpen(Napi::Env env, const char* method) const {
  if (!open_) ThrowState(env, std::string("bpfMap.") + method + ": map is closed");
}

const uint8_t* BpfMap::Key(const Napi::CallbackInfo& info, size_t i,
                           const char* what) const {
  return BufferArg(info, i, what, keySize_).Data();
}

Napi::Value BpfMap::JS_fromPin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "BpfMap.fromPin: path");
  int fd = OpenPin(env, path, "map");
  BpfMapInit init;
  init.fd = fd;
  init.owned = true;
  int err = QueryMapInfo(fd, &init);
  if (err) {
    ::close(fd);
    ThrowErrno(env, err, "bpf_obj_get_info_by_fd", "", path);
  }
  return Create(env, init);
}

Napi::Value BpfMap::JS_name(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), name_);
}
Napi::Value BpfMap::JS_type(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), type_);
}
Napi::Value BpfMap::JS_keySize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), keySize_);
}
Napi::Value BpfMap::JS_valueSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), valueSize_);
}
Napi::Value BpfMap::JS_maxEntries(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), maxEntries_);
}
Napi::Value BpfMap::JS_flags(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), flags_);
}
Napi::Value BpfMap::JS_fd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), fd_);
}
Napi::Value BpfMap::JS_perCpu(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), perCpu_);
}
Napi::Value BpfMap::JS_valueBufferSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(valueBufSize_));
}

Napi::Value BpfMap::JS_lookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "lookup");
  const uint8_t* key = Key(info, 0, "bpfMap.lookup: key");
  Napi::Buffer<uint8_t> value = Napi::Buffer<uint8_t>::New(env, valueBufSize_);
  int err = bpf_map_lookup_elem(fd_, key, value.Data());
  if (err == -ENOENT) return env.Null();
  if (err) ThrowErrno(env, err, "bpf_map_lookup_elem", name_);
  return value;
}

Napi::Value BpfMap::JS_update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "update");
  const uint8_t* key = Key(info, 0, "bpfMap.update: key");
  const uint8_t* value =
      BufferArg(info, 1, "bpfMap.update: value", valueBufSize_).Data();
  uint32_t flags = OptUint32Arg(info, 2, "bpfMap.update: flags", BPF_ANY);
  int err = bpf_map_update_elem(fd_, key, value, flags);
  if (err) ThrowErrno(env, err, "bpf_map_update_elem", name_);
  return env.Undefined();
}

Napi::Value BpfMap::JS_delete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "delete");
  const uint8_t* key = Key(info, 0, "bpfMap.delete: key");
  int err = bpf_map_delete_elem(fd_, key);
  if (err == -ENOENT) return Napi::Boolean::New(env, false);
  if (err) ThrowErrno(env, err, "bpf_map_delete_elem", name_);
  return Napi::Boolean::New(env, true);
}

Napi::Value BpfMap::JS_nextKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "nextKey");
  const uint8_t* key = nullptr;
  if (!info[0].IsNull() && !info[0].IsUndefined()) {
    key = Key(info, 0, "bpfMap.nextKey: key");
  }
  Napi::Buffer<uint8_t> next = Napi::Buffer<uint8_t>::New(env, keySize_);
  int err = bpf_map_get_next_key(fd_, key, next.Data());
  if (err == -ENOENT) return env.Null();
  if (err) ThrowErrno(env, err, "bpf_map_get_next_key", name_);
  return next;
}

// Batch lookup. For hash maps the kernel needs `count` at least as large as
// the fullest bucket, else it fails with ENOSPC. ENOENT means the walk is
// over: whatever was read comes back with nextBatch = null.
Napi::Value BpfMap::JS_lookupBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "lookupBatch");
  const uint8_t* in = nullptr;
  if (!info[0].IsNull() && !info[0].IsUndefined()) {
    in = BufferArg(info, 0, "bpfMap.lookupBatch: inBatch", batchTokenSize_).Data();
  }
  uint32_t count = Uint32Arg(info, 1, "bpfMap.lookupBatch: count");
  Napi::Buffer<uint8_t> keys =
      Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(count) * keySize_);
  Napi::Buffer<uint8_t> values =
      Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(count) * valueBufSize_);
  Napi::Buffer<uint8_t> token = Napi::Buffer<uint8_t>::New(env, batchTokenSize_);
  struct bpf_map_batch_opts opts = {};
  opts.sz = sizeof(opts);
  __u32 n = count;
  int err = bpf_map_lookup_batch(fd_, const_cast<uint8_t*>(in), token.Data(),
                                 keys.Data(), values.Data(), &n, &opts);
  bool done = err == -ENOENT;
  if (err && !done) ThrowErrno(env, err, "bpf_map_lookup_batch", name_);
  if (n < count) {
    keys = Napi::Buffer<uint8_t>::Copy(env, keys.Data(),
                                       static_cast<size_t>(n) * keySize_);
    values = Napi::Buffer<uint8_t>::Copy(env, values.Data(),
                                         static_cast<size_t>(n) * valueBufSize_);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("keys", keys);
  result.Set("values", values);
  result.Set("count", Napi::Number::New(env, n));
  result.Set("nextBatch", done ? env.Null() : token.As<Napi::Value>());
  return result;
}

// A failed batch update/delete throws with err.count = elements processed.
Napi::Value BpfMap::JS_updateBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "updateBatch");
  uint32_t count = Uint32Arg(info, 2, "bpfMap.updateBatch: count");
  const uint8_t* keys = BufferArg(info, 0, "bpfMap.updateBatch: keys",
                                  static_cast<size_t>(count) * keySize_)
                            .Data();
  const uint8_t* values = BufferArg(info, 1, "bpfMap.updateBatch: values",
                                    static_cast<size_t>(count) * valueBufSize_)
                              .Data();
  uint32_t flags = OptUint32Arg(info, 3, "bpfMap.updateBatch: flags", BPF_ANY);
  struct bpf_map_batch_opts opts = {};
  opts.sz = sizeof(opts);
  opts.elem_flags = flags;
  __u32 n = count;
  int err = bpf_map_update_batch(fd_, keys, values, &n, &opts);
  if (err) {
    Napi::Error e = ErrnoError(env, err, "bpf_map_update_batch", name_);
    e.Value().Set("count", Napi::Number::New(env, n));
    throw e;
  }
  return Napi::Number::New(env, n);
}

Napi::Value BpfMap::JS_deleteBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "deleteBatch");
  uint32_t count = Uint32Arg(info, 1, "bpfMap.deleteBatch: count");
  const uint8_t* keys = BufferArg(info, 0, "bpfMap.deleteBatch: keys",
                                  static_cast<size_t>(count) * keySize_)
                            .Data();
  struct bpf_map_batch_opts opts = {};
  opts.sz = sizeof(opts);
  __u32 n = count;
  int err = bpf_map_delete_batch(fd_, keys, &n, &opts);
  if (err) {
    Napi::Error e = ErrnoError(env, err, "bpf_map_delete_batch", name_);
    e.Value().Set("count", Napi::Number::New(env, n));
    throw e;
  }
  return Napi::Number::New(env, n);
}

// Bytes of an mmap'ed array: element i sits at i * roundup(valueSize, 8).
size_t BpfMap::MmapLength() const { return RoundUp8(valueSize_) * maxEntries_; }

namespace {
// Bytes mapped by one mmap() in MmapWorker (a multiple of any page size).
constexpr size_t kMmapPiece = 4u << 20;

size_t PageRoundUp(size_t len) {
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (len + page - 1) / page * page;
}

void Munmap(Napi::Env /*env*/, void* data, size_t* mappedLen) {
  ::munmap(data, *mappedLen);
  delete mappedLen;
}
}  // namespace

// mmap of a BPF_F_MMAPABLE array: element i sits at i * roundup(valueSize, 8)
// (kernel array_map_mmap; elem_size is rounded to 8). The ArrayBuffer's
// length is that times maxEntries; the mapping is rounded up to a page. The
// mapping holds its own reference on the map: it stays valid after close()
// and is unmapped only when the ArrayBuffer is garbage collected.
// mmapAsync(): the same mapping made on a libuv pool thread. mmap of a BPF
// array maps every page at once (remap_vmalloc_range: ~16 ms for 260 MB),
// which must not hold the event loop. The fd is dup'ed for the worker, so a
// close() meanwhile cannot pull it away.
class MmapWorker : public Napi::AsyncWorker {
 public:
  MmapWorker(Napi::Env env, int fd, size_t len, size_t mappedLen, std::string name)
      : Napi::AsyncWorker(env, "xlb:MmapWorker"),
        fd_(fd),
        len_(len),
        mappedLen_(mappedLen),
        name_(std::move(name)),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  ~MmapWorker() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  // Reserves the range (no pages: cheap), then maps the map over it a piece
  // at a time. Each mmap() holds the process's address-space lock while it
  // maps its pages, and so stalls every page fault of every thread: one
  // mmap of 260 MB stalled the event loop for 16-26 ms while ring workers
  // ran beside it (bench/apply.ts); a piece of kMmapPiece holds it well
  // under a millisecond. array_map_mmap takes any page offset.
  void Execute() override {
    void* base = ::mmap(nullptr, mappedLen_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
      errno_ = errno;
      return;
    }
    for (size_t off = 0; off < mappedLen_; off += kMmapPiece) {
      size_t len = std::min(kMmapPiece, mappedLen_ - off);
      void* p = ::mmap(static_cast<char*>(base) + off, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd_,
                       static_cast<off_t>(off));
      if (p == MAP_FAILED) {
        errno_ = errno;
        ::munmap(base, mappedLen_);
        return;
      }
    }
    ptr_ = base;
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (ptr_ == nullptr) {
      deferred_.Reject(ErrnoError(env, errno_, "mmap", name_.c_str()).Value());
      return;
    }
    size_t* hint = new size_t(mappedLen_);
    try {
      deferred_.Resolve(Napi::ArrayBuffer::New(env, ptr_, len_, Munmap, hint));
    } catch (...) {
      ::munmap(ptr_, mappedLen_);
      delete hint;
    }
  }

 private:
  int fd_;
  size_t len_;
  size_t mappedLen_;
  std::string name_;
  void* ptr_ = nullptr;
  int errno_ = 0;
  Napi::Promise::Deferred deferred_;
};

Napi::Value BpfMap::JS_mmapAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "mmapAsync");
  size_t len = MmapLength();
  size_t mappedLen = PageRoundUp(len);
  int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) ThrowErrno(env, errno, "fcntl", name_);
  auto* w = new MmapWorker(env, fd, len, mappedLen, name_);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value BpfMap::JS_mmap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "mmap");
  size_t len = MmapLength();
  size_t mappedLen = PageRoundUp(len);
  void* p = ::mmap(nullptr, mappedLen, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (p == MAP_FAILED) ThrowErrno(env, errno, "mmap", name_);
  size_t* hint = new size_t(mappedLen);
  try {
    return Napi::ArrayBuffer::New(env, p, len, Munmap, hint);
  } catch (...) {
    ::munmap(p, mappedLen);
    delete hint;
    throw;
  }
}

Napi::Value BpfMap::JS_pin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "pin");
  std::string path = StringArg(info, 0, "bpfMap.pin: path");
  int err = bpf_obj_pin(fd_, path.c_str());
  if (err) ThrowErrno(env, err, "bpf_obj_pin", "", path);
  return env.Undefined();
}

Napi::Value BpfMap::JS_close(const Napi::CallbackInfo& info) {
  CloseHandles();
  return info.Env().Undefined();
}

}  // namespace xlb
