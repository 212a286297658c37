// raw_socket.h - sockets the Node runtime does not give (DESIGN §3, H-22):
//
// RawSocket   an AF_INET/AF_INET6 SOCK_RAW or SOCK_DGRAM socket of any
//             protocol (VRRP 112, ICMP ping sockets, test protocols), with
//             socket options, multicast, ancillary data on receive, and
//             readiness through uv_poll on the event loop.
// TcpConnect  a non-blocking TCP connect with SO_MARK / SO_BINDTODEVICE / a
//             bind address set first; hands the connected fd to JS (for
//             `new net.Socket({ fd })`).
// TcpTarget / ProbeEngine  the same connect, parsed once, and the
//             connection's bytes to and from JS in batches (probe_engine.h).
//
// Both only move bytes and set options: no protocol logic (DESIGN §1).
// Every fd is non-blocking and close-on-exec; nothing blocks the loop.
#ifndef XLB_NATIVE_RAW_SOCKET_H
#define XLB_NATIVE_RAW_SOCKET_H

#include <napi.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "addon.h"
#include "polled_socket.h"
#include "uv_poll.h"

namespace xlb {

// Polling, errors and lifetime are PolledSocket's (polled_socket.h).
class RawSocket : public PolledSocket<RawSocket> {
 public:
  static Napi::Function Init(Napi::Env env);

  // new RawSocket({ family: 4|6, type: 'raw'|'dgram', protocol })
  explicit RawSocket(const Napi::CallbackInfo& info);

 private:
  Napi::Value JS_bindToDevice(const Napi::CallbackInfo& info);
  Napi::Value JS_setMark(const Napi::CallbackInfo& info);
  Napi::Value JS_bind(const Napi::CallbackInfo& info);
  Napi::Value JS_connect(const Napi::CallbackInfo& info);
  Napi::Value JS_localAddress(const Napi::CallbackInfo& info);
  Napi::Value JS_joinMulticast(const Napi::CallbackInfo& info);
  Napi::Value JS_leaveMulticast(const Napi::CallbackInfo& info);
  Napi::Value JS_setMulticastInterface(const Napi::CallbackInfo& info);
  Napi::Value JS_setMulticastLoop(const Napi::CallbackInfo& info);
  Napi::Value JS_setTtl(const Napi::CallbackInfo& info);
  Napi::Value JS_enableRecvTtl(const Napi::CallbackInfo& info);
  Napi::Value JS_enableRecvPktInfo(const Napi::CallbackInfo& info);
  Napi::Value JS_send(const Napi::CallbackInfo& info);
  Napi::Value JS_recv(const Napi::CallbackInfo& info);

  Napi::Value TakeSocketError(Napi::Env env) override;
  void SetInt(Napi::Env env, int level, int name, int value, const char* what);
  void Membership(const Napi::CallbackInfo& info, bool join);

  int family_ = 0;  // AF_INET or AF_INET6
  int type_ = 0;    // SOCK_RAW or SOCK_DGRAM
  std::vector<uint8_t> rxBuf_;  // recv() scratch, allocated on first use
};

// For TcpConnect: a non-blocking, close-on-exec TCP socket of
// options.family with options.mark (SO_MARK), options.device
// (SO_BINDTODEVICE) and options.bindAddress/bindPort set, and connect() to
// options.address/port started. Returns the fd (the caller's); *peer gets
// "<address> port <port>" for messages. Throws (TypeError with `cls` in the
// message, or the errno's SystemError) on bad options or an immediate
// failure, and then leaves nothing open.
int OpenTcpConnect(Napi::Env env, const Napi::Object& opts, const std::string& cls, std::string* peer);

// The same options, parsed once (ProbeEngine's TcpTarget keeps one per
// check, so an attempt parses no address): the peer and bind sockaddrs, the
// mark and device. Throws TypeError (with `cls`) on bad options.
struct TcpConnectSpec {
  int family = 0;
  sockaddr_storage to{};
  socklen_t toLen = 0;
  bool hasMark = false;
  uint32_t mark = 0;
  std::string device;      // empty: no SO_BINDTODEVICE
  sockaddr_storage from{};
  socklen_t fromLen = 0;   // 0: not bound
  bool bindNoPort = false; // bound to an address with port 0
  std::string local;       // the bind address, for messages
  std::string peer;        // "<address> port <port>", for messages
  bool delayAck = false;   // TCP_QUICKACK 0 before connect
};
TcpConnectSpec ParseTcpConnect(Napi::Env env, const Napi::Object& opts, const std::string& cls);

// Why OpenTcpConnect(spec, ...) failed: ErrnoError(err, syscall, detail).
struct TcpConnectFailure {
  int err = 0;
  const char* syscall = "";
  std::string detail;
};
// Opens the socket of `spec` and starts its connect, without JS: returns
// the fd (the caller's), or -1 with *failure set and nothing left open.
int OpenTcpConnect(const TcpConnectSpec& spec, TcpConnectFailure* failure);

class TcpConnect : public Napi::ObjectWrap<TcpConnect>, public Closable {
 public:
  static Napi::Function Init(Napi::Env env);

  // new TcpConnect({ family, address, port, mark?, device?, bindAddress?,
  // bindPort? }, callback(err, fd)). Creates the socket, sets the options,
  // binds, starts connect(); throws on an immediate failure. The callback
  // runs once, from the event loop; on success the fd is the caller's.
  explicit TcpConnect(const Napi::CallbackInfo& info);
  ~TcpConnect() override;
  // Cancels a pending connect: stops polling and closes the fd. Idempotent.
  void CloseHandles() override;

 private:
  Napi::Value JS_fd(const Napi::CallbackInfo& info);
  Napi::Value JS_cancel(const Napi::CallbackInfo& info);
  static void OnPoll(uv_poll_t* handle, int status, int events);

  Addon* addon_;
  bool pending_ = false;
  int fd_ = -1;
  std::string peer_;  // "<address> port <port>", for error messages
  UvPoll poll_;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
};

}  // namespace xlb

#endif  // XLB_NATIVE_RAW_SOCKET_H
