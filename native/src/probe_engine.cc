// probe_engine.cc - see probe_engine.h.
#include "probe_engine.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "errors.h"
#include "socket_util.h"

namespace xlb {
namespace {

// Events in one batch (4 uint32 each). 10,000 checks a second are a few
// events a millisecond; a batch this size holds a long stall's backlog.
constexpr size_t kMaxEvents = 1024;
// Bytes of the batch's reads. A health check's answer is far less than
// kReadSize; the batch goes to JS when less than kReadSize is left.
constexpr size_t kDataSize = 256 * 1024;
constexpr size_t kReadSize = 64 * 1024;
// epoll events taken per epoll_wait, and epoll_waits per turn of the loop
// (bounded: the loop's timers and other handles must get their turn).
constexpr int kWaitBatch = 256;
constexpr int kWaitRounds = 8;
// Slot index bits of an id; the rest is the slot's generation.
constexpr uint32_t kIndexBits = 20;
constexpr uint32_t kIndexMask = (1u << kIndexBits) - 1;
constexpr uint32_t kGenMask = (1u << (32 - kIndexBits)) - 1;

}  // namespace

Napi::Function TcpTarget::Init(Napi::Env env) { return DefineClass(env, "TcpTarget", {}); }

TcpTarget::TcpTarget(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TcpTarget>(info) {
  if (!info[0].IsObject()) ThrowType(info.Env(), "TcpTarget: options must be an object");
  spec_ = std::make_shared<const TcpConnectSpec>(ParseTcpConnect(info.Env(), info[0].As<Napi::Object>(), "TcpTarget"));
}

Napi::Function ProbeEngine::Init(Napi::Env env) {
  return DefineClass(env, "ProbeEngine",
                     {
                         InstanceMethod<&ProbeEngine::JS_connect>("connect"),
                         InstanceMethod<&ProbeEngine::JS_write>("write"),
                         InstanceMethod<&ProbeEngine::JS_close>("close"),
                         InstanceAccessor<&ProbeEngine::JS_open>("open"),
                     });
}

ProbeEngine::ProbeEngine(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<ProbeEngine>(info), addon_(Addon::From(info.Env())) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) ThrowType(env, "ProbeEngine: callback must be a function");
  uv_loop_t* loop = EventLoop(env);
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) ThrowErrno(env, errno, "epoll_create1");
  int err = poll_.Start(loop, epfd_, UV_READABLE, OnPoll, this);
  if (err != 0) {
    ::close(epfd_);
    epfd_ = -1;
    ThrowErrno(env, -err, "uv_poll_start");
  }
  poll_.SetRef(false);  // nothing in flight yet
  Napi::Uint32Array events = Napi::Uint32Array::New(env, kMaxEvents * 4);
  ev_ = events.Data();
  events_ = Napi::Persistent(events);
  Napi::Buffer<uint8_t> data = Napi::Buffer<uint8_t>::New(env, kDataSize);
  dataPtr_ = data.Data();
  data_ = Napi::Persistent(data);
  Napi::Object self = info.This().As<Napi::Object>();
  self.Set("events", events);
  self.Set("data", data);
  callback_ = Napi::Persistent(info[0].As<Napi::Function>());
  asyncContext_ = std::make_unique<Napi::AsyncContext>(env, "xlb:ProbeEngine");
  open_ = true;
  addon_->live.insert(this);
}

ProbeEngine::~ProbeEngine() { CloseHandles(); }

void ProbeEngine::CloseHandles() {
  if (!open_) return;
  open_ = false;
  poll_.Close();  // before the epoll fd is closed (uv_poll.h)
  for (Slot& s : slots_) {
    if (s.fd >= 0) ::close(s.fd);
    s.fd = -1;
    s.out.clear();
    s.spec.reset();
  }
  live_ = 0;
  ::close(epfd_);
  epfd_ = -1;
  addon_->live.erase(this);
  callback_.Reset();
  asyncContext_.reset();
}

ProbeEngine::Slot* ProbeEngine::Find(uint32_t id) {
  uint32_t index = id & kIndexMask;
  if (index >= slots_.size()) return nullptr;
  Slot& s = slots_[index];
  return s.fd >= 0 && s.id == id ? &s : nullptr;
}

void ProbeEngine::Release(Slot& s, bool reset) {
  if (reset && !s.connecting) {
    // RST instead of FIN: no TIME_WAIT on this side.
    linger lg{1, 0};
    setsockopt(s.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  }
  // The last close of the fd takes it out of the epoll set: no epoll_ctl.
  ::close(s.fd);
  s.fd = -1;
  s.out.clear();
  s.spec.reset();
  s.gen = (s.gen + 1) & kGenMask;
  free_.push_back(s.id & kIndexMask);
  if (--live_ == 0) poll_.SetRef(false);
}

Napi::Value ProbeEngine::JS_connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!open_) ThrowState(env, "probeEngine.connect: engine is closed");
  if (!info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(addon_->tcpTargetCtor.Value())) {
    ThrowType(env, "probeEngine.connect: target must be a TcpTarget");
  }
  const std::shared_ptr<const TcpConnectSpec>& spec = TcpTarget::Unwrap(info[0].As<Napi::Object>())->spec();
  TcpConnectFailure failure;
  int fd = OpenTcpConnect(*spec, &failure);
  if (fd < 0) ThrowErrno(env, failure.err, failure.syscall, failure.detail);
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    if (slots_.size() > kIndexMask) {
      ::close(fd);
      ThrowState(env, "probeEngine.connect: too many connections");
    }
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[index];
  s.id = (s.gen << kIndexBits) | index;
  // Everything the connection will wait for, once, edge-triggered: writable
  // (the handshake's end, room for queued bytes), readable, the peer's FIN.
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = s.id;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    int err = errno;
    ::close(fd);
    free_.push_back(index);
    ThrowErrno(env, err, "epoll_ctl");
  }
  s.fd = fd;
  s.connecting = true;
  s.ended = false;
  s.spec = spec;
  if (live_++ == 0) poll_.SetRef(true);
  return Napi::Number::New(env, s.id);
}

Napi::Value ProbeEngine::JS_write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = Uint32Arg(info, 0, "probeEngine.write: id");
  if (!info[1].IsBuffer()) ThrowType(env, "probeEngine.write: data must be a Buffer");
  Slot* s = Find(id);
  if (s == nullptr) ThrowState(env, "probeEngine.write: connection is closed");
  if (s->connecting) ThrowState(env, "probeEngine.write: not connected yet");
  Napi::Buffer<uint8_t> data = info[1].As<Napi::Buffer<uint8_t>>();
  const uint8_t* p = data.Data();
  size_t len = data.Length();
  if (s->out.empty()) {
    while (len > 0) {
      ssize_t n = ::send(s->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        ThrowErrno(env, errno, "send", s->spec->peer);
      }
      p += n;
      len -= static_cast<size_t>(n);
    }
  }
  // The rest goes when the socket is writable again (its EPOLLOUT edge).
  if (len > 0) s->out.insert(s->out.end(), p, p + len);
  return env.Undefined();
}

Napi::Value ProbeEngine::JS_close(const Napi::CallbackInfo& info) {
  uint32_t id = Uint32Arg(info, 0, "probeEngine.close: id");
  Slot* s = Find(id);
  if (s != nullptr) Release(*s, info[1].ToBoolean().Value());
  return info.Env().Undefined();
}

Napi::Value ProbeEngine::JS_open(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(live_));
}

void ProbeEngine::OnPoll(uv_poll_t* handle, int status, int /*events*/) {
  auto* self = static_cast<ProbeEngine*>(handle->data);
  if (self == nullptr || !self->open_) return;
  if (status < 0) return;  // an epoll fd reports no errors of its own
  Napi::HandleScope scope(self->Env());
  self->Poll();
}

void ProbeEngine::Poll() {
  epoll_event evs[kWaitBatch];
  for (int round = 0; round < kWaitRounds && open_; round++) {
    int n = epoll_wait(epfd_, evs, kWaitBatch, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (int i = 0; i < n && open_; i++) Handle(static_cast<uint32_t>(evs[i].data.u64), evs[i].events);
    if (n < kWaitBatch) break;
  }
  if (open_) Deliver();
}

void ProbeEngine::Room() {
  // A connected event, then reads (Read checks again per read).
  if (evCount_ + 2 > kMaxEvents || kDataSize - dataUsed_ < kReadSize) Deliver();
}

void ProbeEngine::Push(uint32_t id, uint32_t kind, uint32_t a, uint32_t b) {
  uint32_t* e = ev_ + evCount_ * 4;
  e[0] = id;
  e[1] = kind;
  e[2] = a;
  e[3] = b;
  evCount_++;
}

void ProbeEngine::Deliver() {
  if (evCount_ == 0 || !open_) return;
  Napi::Env env = Env();
  Napi::Value errors = env.Undefined();
  if (!errors_.empty()) {
    Napi::Array arr = Napi::Array::New(env, errors_.size());
    for (size_t i = 0; i < errors_.size(); i++) arr.Set(static_cast<uint32_t>(i), errors_[i]);
    errors = arr;
  }
  Napi::Number count = Napi::Number::New(env, static_cast<double>(evCount_));
  // Emptied first: JS may connect, write and close in the callback, and
  // what the next batch holds starts afresh.
  evCount_ = 0;
  dataUsed_ = 0;
  errors_.clear();
  CallFromLoop(env, callback_.Value(), Value(), {count, errors}, *asyncContext_);
}

void ProbeEngine::Fail(Slot& s, int err, const char* syscall) {
  errors_.push_back(ErrnoError(Env(), err, syscall, s.spec->peer).Value());
  Push(s.id, kError, static_cast<uint32_t>(errors_.size() - 1));
  Release(s, false);
}

bool ProbeEngine::Flush(Slot& s) {
  while (!s.out.empty()) {
    ssize_t n = ::send(s.fd, s.out.data(), s.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      Fail(s, errno, "send");
      return false;
    }
    s.out.erase(s.out.begin(), s.out.begin() + n);
  }
  return true;
}

void ProbeEngine::Handle(uint32_t id, uint32_t events) {
  Room();
  Slot* s = Find(id);
  if (s == nullptr) return;  // closed since the event was read
  if (s->connecting) {
    // An error or a hang-up while connecting: the socket says why. Without
    // either, writable means the handshake finished (no SO_ERROR read).
    if ((events & (EPOLLERR | EPOLLHUP)) != 0) {
      int err = SocketError(s->fd);
      Fail(*s, err != 0 ? err : EIO, "connect");
      return;
    }
    if ((events & EPOLLOUT) == 0) return;
    s->connecting = false;
    Push(id, kConnected);
  } else if ((events & EPOLLOUT) != 0 && !s->out.empty() && !Flush(*s)) {
    return;
  }
  if (s->ended) return;  // nothing is read after the FIN
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) Read(id, events);
}

void ProbeEngine::Read(uint32_t id, uint32_t events) {
  for (;;) {
    if (evCount_ + 1 > kMaxEvents || kDataSize - dataUsed_ < kReadSize) Deliver();
    Slot* s = Find(id);
    if (s == nullptr || s->ended) return;
    uint32_t offset = static_cast<uint32_t>(dataUsed_);
    ssize_t n = ::recv(s->fd, dataPtr_ + offset, kReadSize, MSG_DONTWAIT);
    if (n > 0) {
      dataUsed_ += static_cast<size_t>(n);
      bool drained = static_cast<size_t>(n) < kReadSize;
      // The FIN was in when epoll looked, and these bytes drained the queue
      // before it (TCP queues the FIN in order): they are the last ones.
      if (drained && (events & EPOLLRDHUP) != 0 && (events & EPOLLERR) == 0) {
        s->ended = true;
        Push(id, kDataEnd, offset, static_cast<uint32_t>(n));
        return;
      }
      Push(id, kData, offset, static_cast<uint32_t>(n));
      // A short read drained the queue: the next bytes bring a new edge,
      // unless a hang-up or an error is pending (the next recv says which).
      if (drained && (events & (EPOLLHUP | EPOLLERR)) == 0) return;
      continue;
    }
    if (n == 0) {
      s->ended = true;
      Push(id, kEnd);
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    Fail(*s, errno, "recv");
    return;
  }
}

}  // namespace xlb
