// probe_engine.h - ProbeEngine: the TCP connections of the health checker's
// tcp and plain-http attempts on one epoll fd, their events handed to JS in
// batches (DESIGN §3, H-22). TcpTarget: one check's connect options, parsed
// once.
//
// Why: at 10,000 checks a second a TcpStream per attempt (the class this
// replaced: one ObjectWrap, one uv_poll handle, a persistent callback and an
// async context each, one call into JS per event) was a large part of the
// checker's own time, and libuv
// changed each fd's epoll registration three times (add, modify, delete).
// Here an attempt is a slot in a table: its fd is registered once,
// edge-triggered, for everything it will need, and close() drops it from
// the epoll set; the engine's one uv_poll watches the epoll fd, and every
// event that one turn of the loop found reaches JS in ONE call.
//
//   new TcpTarget(options)        options as TcpConnect's (raw_socket.h)
//   new ProbeEngine(callback(count, errors))
//     events        Uint32Array: event i is [4i] id, [4i+1] kind,
//                   [4i+2] a, [4i+3] b (below); valid during the callback
//     data          Buffer the kData bytes are in; valid during the callback
//     connect(target) -> id   starts a connect; throws SystemError when the
//                   socket cannot be made or the connect fails at once
//     write(id, buffer)       sends now what the socket takes, the rest when
//                   it is writable; throws SystemError (EPIPE, ECONNRESET)
//     close(id, reset)        closes the fd; reset sends RST (SO_LINGER 0)
//                   instead of FIN (not while the connect is pending: that
//                   close sends nothing). Unknown ids are ignored.
//     open          connections open
//   kinds: kConnected; kData (a: offset in data, b: length); kEnd (the
//   peer's FIN); kDataEnd (as kData, and the peer's FIN came after those
//   bytes: one event where a read-until-close would take two); kError (a:
//   index into `errors`, a SystemError "<syscall> failed: ... (<peer>)";
//   the connection is closed already). Nothing comes for an id after
//   kError or close().
//
// Bytes only: what they mean is the caller's (DESIGN §1, H-14).
#ifndef XLB_NATIVE_PROBE_ENGINE_H
#define XLB_NATIVE_PROBE_ENGINE_H

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "addon.h"
#include "raw_socket.h"
#include "uv_poll.h"

namespace xlb {

// One check's connect options (TcpConnectSpec), made once per probe.
class TcpTarget : public Napi::ObjectWrap<TcpTarget> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit TcpTarget(const Napi::CallbackInfo& info);
  const std::shared_ptr<const TcpConnectSpec>& spec() const { return spec_; }

 private:
  // Shared with the connections in flight, which may outlive the target.
  std::shared_ptr<const TcpConnectSpec> spec_;
};

class ProbeEngine : public Napi::ObjectWrap<ProbeEngine>, public Closable {
 public:
  // Event kinds (src/native/socket.ts PROBE_EVENT).
  enum Event { kConnected = 0, kData = 1, kEnd = 2, kDataEnd = 3, kError = 4 };

  static Napi::Function Init(Napi::Env env);

  explicit ProbeEngine(const Napi::CallbackInfo& info);
  ~ProbeEngine() override;
  // Closes every connection, the poll handle and the epoll fd. Idempotent.
  void CloseHandles() override;

 private:
  // One connection. A slot's id is its index plus a generation in the top
  // bits, so an id that JS still holds after the slot was reused matches
  // nothing.
  struct Slot {
    uint32_t id = 0;
    uint32_t gen = 0;  // bumped at each release
    int fd = -1;  // -1: free
    bool connecting = false;
    bool ended = false;  // the peer's FIN was read
    std::shared_ptr<const TcpConnectSpec> spec;  // the target's, for messages
    std::vector<uint8_t> out;  // bytes write() could not send yet
  };

  Napi::Value JS_connect(const Napi::CallbackInfo& info);
  Napi::Value JS_write(const Napi::CallbackInfo& info);
  Napi::Value JS_close(const Napi::CallbackInfo& info);
  Napi::Value JS_open(const Napi::CallbackInfo& info);

  static void OnPoll(uv_poll_t* handle, int status, int events);
  // Drains the epoll fd, then hands the batch to JS.
  void Poll();
  // What one epoll event on connection id means; appends events to the
  // batch. May call JS (a full batch), so it holds no Slot& across that.
  void Handle(uint32_t id, uint32_t events);
  // Reads what id has (edge-triggered: until a short read); the FIN too.
  void Read(uint32_t id, uint32_t events);
  // Makes room for an event and a read: calls JS with the batch when full.
  void Room();
  // Sends s.out; false when the connection failed (and is closed).
  bool Flush(Slot& s);
  // Closes s and queues kError with ErrnoError(err, syscall, peer).
  void Fail(Slot& s, int err, const char* syscall);
  // Queues an event; Room() must have made room first.
  void Push(uint32_t id, uint32_t kind, uint32_t a = 0, uint32_t b = 0);
  // Calls JS with the queued events (if any) and empties the batch.
  void Deliver();
  Slot* Find(uint32_t id);
  void Release(Slot& s, bool reset);

  Addon* addon_;
  bool open_ = false;
  int epfd_ = -1;
  UvPoll poll_;
  bool referenced_ = false;  // the poll handle keeps the loop alive while connections are open
  size_t live_ = 0;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;  // indexes of free slots
  // The batch: the events and the bytes they point into, both JS's views.
  Napi::Reference<Napi::Uint32Array> events_;
  uint32_t* ev_ = nullptr;
  size_t evCount_ = 0;
  Napi::Reference<Napi::Buffer<uint8_t>> data_;
  uint8_t* dataPtr_ = nullptr;
  size_t dataUsed_ = 0;
  std::vector<Napi::Value> errors_;  // valid within one HandleScope (Poll)
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
};

}  // namespace xlb

#endif  // XLB_NATIVE_PROBE_ENGINE_H
