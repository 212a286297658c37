// tcp_stream.cc - see tcp_stream.h.
#include "tcp_stream.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "errors.h"
#include "raw_socket.h"
#include "socket_util.h"

namespace xlb {
namespace {

// One recv() reads at most this much; a health check's answer is far less.
constexpr size_t kReadSize = 65536;

}  // namespace

Napi::Function TcpStream::Init(Napi::Env env) {
  return DefineClass(env, "TcpStream",
                     {
                         InstanceMethod<&TcpStream::JS_write>("write"),
                         InstanceMethod<&TcpStream::JS_close>("close"),
                     });
}

TcpStream::TcpStream(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<TcpStream>(info), addon_(Addon::From(info.Env())) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) ThrowType(env, "TcpStream: options must be an object");
  if (!info[1].IsFunction()) ThrowType(env, "TcpStream: callback must be a function");
  uv_loop_t* loop = EventLoop(env);
  int fd = OpenTcpConnect(env, info[0].As<Napi::Object>(), "TcpStream", &peer_);
  // Writable = the handshake finished, one way or the other (SO_ERROR).
  int err = poll_.Start(loop, fd, UV_WRITABLE, OnPoll, this);
  if (err != 0) {
    ::close(fd);
    ThrowErrno(env, -err, "uv_poll_start");
  }
  events_ = UV_WRITABLE;
  fd_ = fd;
  callback_ = Napi::Persistent(info[1].As<Napi::Function>());
  asyncContext_ = std::make_shared<Napi::AsyncContext>(env, "xlb:TcpStream");
  open_ = true;
  Ref();  // an open stream is not collected: the loop will call it
  addon_->live.insert(this);
}

TcpStream::~TcpStream() { CloseHandles(); }

void TcpStream::CloseHandles() {
  if (!open_) return;
  open_ = false;
  poll_.Close();  // before the fd is closed (uv_poll.h)
  ::close(fd_);
  fd_ = -1;
  out_.clear();
  addon_->live.erase(this);
  callback_.Reset();
  asyncContext_.reset();
  Unref();
}

int TcpStream::UpdatePoll() {
  int want = 0;
  if (connecting_ || !out_.empty()) want |= UV_WRITABLE;
  if (!connecting_ && reading_) want |= UV_READABLE;
  if (want == events_) return 0;
  events_ = want;
  if (want == 0) {
    poll_.Stop();
    return 0;
  }
  return poll_.Start(nullptr, fd_, want, OnPoll, this);
}

bool TcpStream::Flush() {
  while (!out_.empty()) {
    ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      Fail(errno, "send");
      return false;
    }
    out_.erase(out_.begin(), out_.begin() + n);
  }
  int err = UpdatePoll();
  if (err != 0) {
    Fail(-err, "uv_poll_start");
    return false;
  }
  return true;
}

void TcpStream::Fail(int err, const char* syscall) {
  Napi::Env env = Env();
  Napi::Value error = ErrnoError(env, err, syscall, peer_).Value();
  // Emit needs the callback that CloseHandles drops: take it first.
  Napi::Function fn = callback_.Value();
  std::shared_ptr<Napi::AsyncContext> ctx = asyncContext_;
  Napi::Object recv = Value();
  CloseHandles();
  CallFromLoop(env, fn, recv, {Napi::Number::New(env, kError), error}, *ctx);
}

void TcpStream::Emit(Event event, napi_value value) {
  Napi::Env env = Env();
  Napi::Function fn = callback_.Value();
  std::shared_ptr<Napi::AsyncContext> ctx = asyncContext_;
  CallFromLoop(env, fn, Value(), {Napi::Number::New(env, event), value}, *ctx);
}

void TcpStream::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<TcpStream*>(handle->data);
  if (self == nullptr || !self->open_) return;
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  // Holds the JS object for the whole callback: JS may close the stream
  // (dropping the self-reference) inside any Emit below.
  Napi::Object keep = self->Value();
  static_cast<void>(keep);
  if (status < 0) {
    // POLLERR: libuv stopped the handle; the socket says why.
    int err = SocketError(self->fd_);
    self->Fail(err != 0 ? err : -status, self->connecting_ ? "connect" : "recv");
    return;
  }
  if (self->connecting_) {
    if ((events & UV_WRITABLE) == 0) return;
    int err = SocketError(self->fd_);
    if (err != 0) {
      self->Fail(err, "connect");
      return;
    }
    self->connecting_ = false;
    int perr = self->UpdatePoll();
    if (perr != 0) {
      self->Fail(-perr, "uv_poll_start");
      return;
    }
    self->Emit(kConnected, env.Undefined());
    return;  // readable comes back on the next poll
  }
  if ((events & UV_WRITABLE) != 0 && !self->out_.empty() && !self->Flush()) return;
  if (!self->open_ || (events & UV_READABLE) == 0 || !self->reading_) return;
  static thread_local uint8_t buf[kReadSize];
  ssize_t n;
  do {
    n = ::recv(self->fd_, buf, sizeof(buf), MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    self->Emit(kData, Napi::Buffer<uint8_t>::Copy(env, buf, static_cast<size_t>(n)));
  } else if (n == 0) {
    self->reading_ = false;
    int perr = self->UpdatePoll();
    if (perr != 0) {
      self->Fail(-perr, "uv_poll_start");
      return;
    }
    self->Emit(kEnd, env.Undefined());
  } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
    self->Fail(errno, "recv");
  }
}

Napi::Value TcpStream::JS_write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBuffer()) ThrowType(env, "tcpStream.write: data must be a Buffer");
  if (!open_) ThrowState(env, "tcpStream.write: stream is closed");
  if (connecting_) ThrowState(env, "tcpStream.write: not connected yet");
  Napi::Buffer<uint8_t> data = info[0].As<Napi::Buffer<uint8_t>>();
  const uint8_t* p = data.Data();
  size_t len = data.Length();
  if (out_.empty()) {
    while (len > 0) {
      ssize_t n = ::send(fd_, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        ThrowErrno(env, errno, "send", peer_);
      }
      p += n;
      len -= static_cast<size_t>(n);
    }
  }
  if (len > 0) {
    out_.insert(out_.end(), p, p + len);
    int err = UpdatePoll();
    if (err != 0) ThrowErrno(env, -err, "uv_poll_start");
  }
  return env.Undefined();
}

Napi::Value TcpStream::JS_close(const Napi::CallbackInfo& info) {
  if (open_ && !connecting_ && info[0].ToBoolean().Value()) {
    // RST instead of FIN: no TIME_WAIT on this side.
    linger lg{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  }
  CloseHandles();
  return info.Env().Undefined();
}

}  // namespace xlb
