// tcp_stream.h - TcpStream: one TCP connection whose bytes go to and from JS
// without a net.Socket (DESIGN §3, H-22).
//
// Made for the health checker, which opens up to 10,000 connections a
// second: a net.Socket costs a stream's machinery (two stream states,
// listeners, a write request, a read buffer from a pool) per connection, and
// most of the checker's time went there. A TcpStream is one object, one
// uv_poll handle and one callback into JS per event:
//
//   new TcpStream(options, callback(event, value))
//     options as TcpConnect's (raw_socket.h); the connect starts at once
//     events: kConnected, kData (value: a Buffer of the bytes read),
//             kEnd (the peer's FIN), kError (value: SystemError; the stream
//             is closed already). Nothing after kError or close().
//   write(buffer)   sends now what the socket takes and the rest when it is
//                   writable again; throws SystemError (EPIPE, ECONNRESET)
//   close(reset)    closes the fd; reset sends RST (SO_LINGER 0) instead of
//                   FIN, leaving no TIME_WAIT behind. Idempotent.
//
// Bytes only: what they mean is the caller's (DESIGN §1, H-14).
#ifndef XLB_NATIVE_TCP_STREAM_H
#define XLB_NATIVE_TCP_STREAM_H

#include <napi.h>
#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "addon.h"
#include "uv_poll.h"

namespace xlb {

class TcpStream : public Napi::ObjectWrap<TcpStream>, public Closable {
 public:
  // Event numbers of the callback (src/native/socket.ts TCP_STREAM_EVENT).
  enum Event { kConnected = 0, kData = 1, kEnd = 2, kError = 3 };

  static Napi::Function Init(Napi::Env env);

  explicit TcpStream(const Napi::CallbackInfo& info);
  ~TcpStream() override;
  // Stops polling and closes the fd. Idempotent.
  void CloseHandles() override;

 private:
  Napi::Value JS_write(const Napi::CallbackInfo& info);
  Napi::Value JS_close(const Napi::CallbackInfo& info);

  static void OnPoll(uv_poll_t* handle, int status, int events);
  // Watches what the state needs: writable while connecting or while bytes
  // wait to be sent, readable until the peer's FIN. Returns a libuv error.
  int UpdatePoll();
  // Sends what waits in out_; false when the stream failed (and is closed).
  bool Flush();
  // Closes, then calls back kError with ErrnoError(err, syscall).
  void Fail(int err, const char* syscall);
  // Calls back (event, value) from the loop.
  void Emit(Event event, napi_value value);

  Addon* addon_;
  bool open_ = false;
  bool connecting_ = true;
  bool reading_ = true;
  int fd_ = -1;
  int events_ = 0;  // what poll_ watches now
  std::string peer_;  // "<address> port <port>", for error messages
  std::vector<uint8_t> out_;  // bytes write() could not send yet
  UvPoll poll_;
  Napi::FunctionReference callback_;
  // Shared so that OnPoll keeps it alive while close() runs inside the
  // callback that uses it.
  std::shared_ptr<Napi::AsyncContext> asyncContext_;
};

}  // namespace xlb

#endif  // XLB_NATIVE_TCP_STREAM_H
