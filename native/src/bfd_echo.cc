// bfd_echo.cc - see bfd_echo.h.
#include "bfd_echo.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/if_packet.h>
#include <sys/mman.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "errors.h"
#include "system.h"

namespace xlb {
namespace {

// The thread wakes at least this often with nothing to do (a bound, so a
// missed notify costs at most this much).
constexpr uint64_t kIdleNs = 1'000'000'000ull;

uint64_t MonoNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // the clock of bpf_ktime_get_ns()
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// What the thread hands to onFail.
struct Failure {
  uint32_t slot;
  uint64_t agoNs;
  uint64_t returned;
};

uint32_t NumberProp(Napi::Env env, const Napi::Object& o, const char* key, const char* what, uint32_t max) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) ThrowType(env, std::string(what) + "." + key + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= max) || d != static_cast<double>(static_cast<uint64_t>(d)))
    ThrowType(env, std::string(what) + "." + key + " must be an integer 0.." + std::to_string(max));
  return static_cast<uint32_t>(d);
}

// One's-complement 16-bit sum folded (RFC 1071).
uint16_t Fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

}  // namespace

Napi::Function BfdEchoTx::Init(Napi::Env env) {
  return DefineClass(env, "BfdEchoTx",
                     {
                         InstanceMethod<&BfdEchoTx::JS_set>("set"),
                         InstanceMethod<&BfdEchoTx::JS_remove>("remove"),
                         InstanceMethod<&BfdEchoTx::JS_stats>("stats"),
                         InstanceMethod<&BfdEchoTx::JS_close>("close"),
                         InstanceMethod<&BfdEchoTx::JS_threadInfo>("threadInfo"),
                     });
}

BfdEchoTx::BfdEchoTx(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<BfdEchoTx>(info), addon_(Addon::From(info.Env())) {
  Napi::Env env = info.Env();
  const char* what = "new BfdEchoTx: options";
  if (info.Length() < 2 || !info[0].IsObject()) ThrowType(env, std::string(what) + " must be an object");
  if (!info[1].IsFunction()) ThrowType(env, "new BfdEchoTx: onFail must be a function");
  Napi::Object o = info[0].As<Napi::Object>();
  Napi::Value path = o.Get("mapPath");
  if (!path.IsString()) ThrowType(env, std::string(what) + ".mapPath must be a string");
  slotSize_ = NumberProp(env, o, "slotSize", what, 1u << 16);
  lastNsOffset_ = NumberProp(env, o, "lastNsOffset", what, 1u << 16);
  countOffset_ = NumberProp(env, o, "countOffset", what, 1u << 16);
  if (!o.Get("rtPriority").IsUndefined()) rtPriority_ = NumberProp(env, o, "rtPriority", what, 99);
  if (slotSize_ == 0 || slotSize_ % 8 != 0 || lastNsOffset_ % 8 != 0 || countOffset_ % 8 != 0 ||
      lastNsOffset_ + 8 > slotSize_ || countOffset_ + 8 > slotSize_)
    ThrowType(env, std::string(what) + ": slotSize must be a non-zero multiple of 8 holding both u64 fields, 8-aligned");

  std::string mapPath = path.As<Napi::String>().Utf8Value();
  int fd = OpenPin(env, mapPath, "map");
  struct bpf_map_info mi;
  std::memset(&mi, 0, sizeof(mi));
  uint32_t len = sizeof(mi);
  if (bpf_obj_get_info_by_fd(fd, &mi, &len) != 0) {
    int err = errno;
    ::close(fd);
    ThrowErrno(env, err, "bpf_obj_get_info_by_fd", "", mapPath);
  }
  if (mi.type != BPF_MAP_TYPE_ARRAY || !(mi.map_flags & BPF_F_MMAPABLE) || mi.value_size != slotSize_ || mi.max_entries == 0) {
    ::close(fd);
    ThrowType(env, "new BfdEchoTx: " + mapPath + " is not an mmapable array of " + std::to_string(slotSize_) + "-byte values");
  }
  size_t mapLen = static_cast<size_t>(mi.max_entries) * slotSize_;
  long page = sysconf(_SC_PAGESIZE);
  mapLen = (mapLen + page - 1) / page * page;
  void* m = ::mmap(nullptr, mapLen, PROT_READ, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) {
    int err = errno;
    ::close(fd);
    ThrowErrno(env, err, "mmap", "", mapPath);
  }
  // Send only: protocol 0 receives nothing, so nothing queues on it.
  int sock = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (sock < 0) {
    int err = errno;
    ::munmap(m, mapLen);
    ::close(fd);
    ThrowErrno(env, err, "socket", "AF_PACKET SOCK_RAW");
  }
  mapFd_ = fd;
  map_ = static_cast<const uint8_t*>(m);
  mapLen_ = mapLen;
  slots_ = mi.max_entries;
  sock_ = sock;
  onFail_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "xlb:BfdEchoTx", 0, 1);
  // The instance, not the pending callbacks, keeps the loop alive: a worker
  // exits when its port closes, whether or not echo runs.
  onFail_.Unref(env);
  open_ = true;
  addon_->live.insert(this);
  thread_ = std::thread([this] { Run(); });
}

BfdEchoTx::~BfdEchoTx() { CloseHandles(); }

void BfdEchoTx::CloseHandles() {
  if (!open_) return;
  open_ = false;
  addon_->live.erase(this);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  onFail_.Release();
  ::munmap(const_cast<uint8_t*>(map_), mapLen_);
  map_ = nullptr;
  ::close(mapFd_);
  ::close(sock_);
  mapFd_ = sock_ = -1;
  sessions_.clear();
}

void BfdEchoTx::EnsureOpen(Napi::Env env, const char* method) const {
  if (!open_) ThrowState(env, std::string("bfdEchoTx.") + method + ": closed");
}

Napi::Value BfdEchoTx::JS_set(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "set");
  uint32_t slot = Uint32Arg(info, 0, "bfdEchoTx.set: slot");
  if (slot >= slots_) ThrowType(env, "bfdEchoTx.set: slot must be below " + std::to_string(slots_));
  if (info.Length() < 2 || !info[1].IsObject()) ThrowType(env, "bfdEchoTx.set: options must be an object");
  Napi::Object o = info[1].As<Napi::Object>();
  const char* what = "bfdEchoTx.set: options";
  Napi::Value fv = o.Get("frame");
  if (!fv.IsTypedArray() || fv.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    ThrowType(env, std::string(what) + ".frame must be a Buffer");
  Napi::Uint8Array frame = fv.As<Napi::Uint8Array>();
  if (frame.ByteLength() < 14 || frame.ByteLength() > 1514) ThrowType(env, std::string(what) + ".frame must be 14..1514 bytes");
  Session s;
  s.ifindex = static_cast<int>(NumberProp(env, o, "ifindex", what, 0x7fffffff));
  if (s.ifindex == 0) ThrowType(env, std::string(what) + ".ifindex must not be 0");
  s.frame.assign(frame.Data(), frame.Data() + frame.ByteLength());
  s.seqOffset = NumberProp(env, o, "seqOffset", what, 1514);
  if (s.seqOffset + 4 > s.frame.size()) ThrowType(env, std::string(what) + ".seqOffset must leave 4 bytes in the frame");
  Napi::Value cv = o.Get("csumOffset");
  if (!cv.IsUndefined() && !cv.IsNull()) {
    uint32_t c = NumberProp(env, o, "csumOffset", what, 1514);
    if (c + 2 > s.frame.size() || c % 2 != s.seqOffset % 2)
      ThrowType(env, std::string(what) + ".csumOffset must leave 2 bytes in the frame, at the sequence's parity");
    s.csumOffset = static_cast<int32_t>(c);
    s.csum0 = static_cast<uint16_t>(s.frame[c] << 8 | s.frame[c + 1]);
  }
  for (uint32_t i = 0; i < 4; i++)
    if (s.frame[s.seqOffset + i] != 0) ThrowType(env, std::string(what) + ".frame must carry sequence 0 at seqOffset");
  uint32_t intervalUs = NumberProp(env, o, "intervalUs", what, 0xffffffffu);
  uint32_t detectUs = NumberProp(env, o, "detectUs", what, 0xffffffffu);
  if (intervalUs < 100 || detectUs < intervalUs) ThrowType(env, std::string(what) + ": intervalUs must be >= 100 and detectUs >= intervalUs");
  s.intervalNs = intervalUs * 1000ull;
  s.detectNs = detectUs * 1000ull;
  {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t now = MonoNs();
    auto it = sessions_.find(slot);
    if (it != sessions_.end()) {  // keep the counters and the sequence of the slot's session
      s.seq = it->second.seq;
      s.sent = it->second.sent;
      s.sendErrors = it->second.sendErrors;
      s.late = it->second.late;
      s.lateMaxNs = it->second.lateMaxNs;
    }
    s.nextSendNs = now;
    s.armedNs = now;
    sessions_[slot] = std::move(s);
  }
  cv_.notify_all();
  return env.Undefined();
}

Napi::Value BfdEchoTx::JS_remove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "remove");
  uint32_t slot = Uint32Arg(info, 0, "bfdEchoTx.remove: slot");
  bool had;
  {
    std::lock_guard<std::mutex> lock(mu_);
    had = sessions_.erase(slot) > 0;
  }
  return Napi::Boolean::New(env, had);
}

Napi::Value BfdEchoTx::JS_stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "stats");
  uint32_t slot = Uint32Arg(info, 0, "bfdEchoTx.stats: slot");
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(slot);
  if (it == sessions_.end()) return env.Null();
  const Session& s = it->second;
  Napi::Object o = Napi::Object::New(env);
  o.Set("sent", Napi::Number::New(env, static_cast<double>(s.sent)));
  o.Set("sendErrors", Napi::Number::New(env, static_cast<double>(s.sendErrors)));
  o.Set("lastErrno", Napi::Number::New(env, s.lastErrno));
  o.Set("late", Napi::Number::New(env, static_cast<double>(s.late)));
  o.Set("lateMaxUs", Napi::Number::New(env, static_cast<double>(s.lateMaxNs) / 1000.0));
  o.Set("failed", Napi::Boolean::New(env, s.failed));
  o.Set("returned", Napi::Number::New(env, static_cast<double>(ReadU64(slot, countOffset_))));
  return o;
}

Napi::Value BfdEchoTx::JS_close(const Napi::CallbackInfo& info) {
  CloseHandles();
  return info.Env().Undefined();
}

Napi::Value BfdEchoTx::JS_threadInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "threadInfo");
  std::lock_guard<std::mutex> lock(mu_);
  Napi::Object o = Napi::Object::New(env);
  o.Set("rtPriority", Napi::Number::New(env, rtErrno_ == 0 ? rtPriority_ : 0));
  o.Set("rtErrno", Napi::Number::New(env, rtErrno_));
  return o;
}

uint64_t BfdEchoTx::ReadU64(uint32_t slot, uint32_t offset) const {
  // XDP stores each field with one aligned 8-byte store; a relaxed atomic
  // load reads it whole without a data race on our side.
  const uint64_t* p = reinterpret_cast<const uint64_t*>(map_ + static_cast<size_t>(slot) * slotSize_ + offset);
  return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void BfdEchoTx::SendOne(uint32_t slot, Session& s, uint64_t now) {
  (void)slot;
  uint32_t seq = ++s.seq;
  uint8_t* f = s.frame.data();
  f[s.seqOffset] = static_cast<uint8_t>(seq >> 24);
  f[s.seqOffset + 1] = static_cast<uint8_t>(seq >> 16);
  f[s.seqOffset + 2] = static_cast<uint8_t>(seq >> 8);
  f[s.seqOffset + 3] = static_cast<uint8_t>(seq);
  if (s.csumOffset >= 0) {
    // RFC 1624 eqn 3 from the template (whose sequence words were 0, and
    // ~0 adds nothing in one's complement): HC' = ~(~HC + m'hi + m'lo).
    uint16_t c = static_cast<uint16_t>(~Fold(static_cast<uint16_t>(~s.csum0) + (seq >> 16) + (seq & 0xffff)));
    if (c == 0) c = 0xffff;  // UDP: 0 would say "no checksum" (RFC 768)
    f[s.csumOffset] = static_cast<uint8_t>(c >> 8);
    f[s.csumOffset + 1] = static_cast<uint8_t>(c);
  }
  struct sockaddr_ll to;
  std::memset(&to, 0, sizeof(to));
  to.sll_family = AF_PACKET;
  to.sll_ifindex = s.ifindex;
  to.sll_halen = 6;
  std::memcpy(to.sll_addr, f, 6);
  ssize_t n = ::sendto(sock_, f, s.frame.size(), MSG_DONTWAIT, reinterpret_cast<struct sockaddr*>(&to), sizeof(to));
  if (n < 0) {
    s.sendErrors++;
    s.lastErrno = errno;
  } else {
    s.sent++;
  }
  if (now > s.nextSendNs && now - s.nextSendNs > s.lateMaxNs) s.lateMaxNs = now - s.nextSendNs;
}

void BfdEchoTx::Run() {
  // Wake on time: the default 50 µs timer slack of a normal thread is 5 %
  // of a 1 ms interval.
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  std::unique_lock<std::mutex> lock(mu_);
  if (rtPriority_ > 0) {
    struct sched_param sp;
    std::memset(&sp, 0, sizeof(sp));
    sp.sched_priority = static_cast<int>(rtPriority_);
    rtErrno_ = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
  }
  while (!stop_) {
    uint64_t now = MonoNs();
    uint64_t wake = now + kIdleNs;
    for (auto& [slot, s] : sessions_) {
      if (now >= s.nextSendNs) {
        SendOne(slot, s, now);
        s.nextSendNs += s.intervalNs;
        // Behind by a whole interval (the thread was not scheduled): send
        // the next one an interval from now rather than a burst, and count
        // the detection time from now: the echoes this thread did not send
        // cannot have come back, and the peer is not to blame for that.
        if (s.nextSendNs <= now) {
          s.late++;
          s.nextSendNs = now + s.intervalNs;
          s.armedNs = std::max(s.armedNs, now);
        }
      }
      wake = std::min(wake, s.nextSendNs);
      if (s.failed) continue;
      uint64_t ref = std::max(ReadU64(slot, lastNsOffset_), s.armedNs);
      if (now > ref + s.detectNs) {
        s.failed = true;
        auto* f = new Failure{slot, now - ref, ReadU64(slot, countOffset_)};
        napi_status st = onFail_.NonBlockingCall(f, [](Napi::Env env, Napi::Function cb, Failure* d) {
          // The C call, not cb.Call(): nothing may throw out of here (during
          // env teardown a failed call would terminate the process); an
          // exception of the callback stays pending and reaches JS as any
          // uncaught one.
          if (env != nullptr && cb != nullptr) {
            napi_value args[3];
            napi_value undefined;
            if (napi_create_uint32(env, d->slot, &args[0]) == napi_ok &&
                napi_create_double(env, static_cast<double>(d->agoNs), &args[1]) == napi_ok &&
                napi_create_double(env, static_cast<double>(d->returned), &args[2]) == napi_ok &&
                napi_get_undefined(env, &undefined) == napi_ok) {
              napi_call_function(env, undefined, cb, 3, args, nullptr);
            }
          }
          delete d;
        });
        if (st != napi_ok) delete f;  // closing: nobody to tell
      } else {
        wake = std::min(wake, ref + s.detectNs + 1);
      }
    }
    auto deadline = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(wake));
    cv_.wait_until(lock, deadline);
  }
}

}  // namespace xlb
