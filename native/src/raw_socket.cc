// raw_socket.cc - see raw_socket.h.
#include "raw_socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "errors.h"
#include "socket_util.h"

namespace xlb {
namespace {

// Largest datagram recv() returns in full (an IPv4 raw read includes the IP
// header, so 65535 + 1 makes truncation visible).
constexpr size_t kRecvBufSize = 65536;

// Closes an fd unless released; for constructors that throw half-way.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
  int Release() {
    int f = fd;
    fd = -1;
    return f;
  }
};

// Parses `text` (an IPv4 address for AF_INET; an IPv6 address for AF_INET6,
// optionally with a "%<ifname or index>" scope) and port into *ss. Byte
// moving only: the TS side validates before calling.
socklen_t ToSockaddr(Napi::Env env, int family, const std::string& text, uint32_t port,
                     sockaddr_storage* ss, const std::string& what) {
  std::memset(ss, 0, sizeof(*ss));
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, text.c_str(), &sin->sin_addr) != 1) {
      ThrowType(env, what + " must be an IPv4 address");
    }
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(static_cast<uint16_t>(port));
  std::string addr = text;
  size_t pct = text.find('%');
  if (pct != std::string::npos) {
    addr = text.substr(0, pct);
    std::string scope = text.substr(pct + 1);
    char* end = nullptr;
    unsigned long n = std::strtoul(scope.c_str(), &end, 10);
    if (!scope.empty() && *end == '\0') {
      sin6->sin6_scope_id = static_cast<uint32_t>(n);
    } else {
      unsigned int index = if_nametoindex(scope.c_str());
      if (index == 0) ThrowErrno(env, errno, "if_nametoindex", scope);
      sin6->sin6_scope_id = index;
    }
  }
  if (inet_pton(AF_INET6, addr.c_str(), &sin6->sin6_addr) != 1) {
    ThrowType(env, what + " must be an IPv6 address");
  }
  return sizeof(sockaddr_in6);
}

std::string AddrText(int family, const void* addr) {
  char text[INET6_ADDRSTRLEN] = "";
  inet_ntop(family, addr, text, sizeof(text));
  return text;
}

// Sets result.address (and result.port when withPort) from a sockaddr.
void SetAddress(Napi::Env env, Napi::Object result, const sockaddr_storage& ss, bool withPort) {
  if (ss.ss_family == AF_INET) {
    const auto& sin = reinterpret_cast<const sockaddr_in&>(ss);
    result.Set("address", AddrText(AF_INET, &sin.sin_addr));
    if (withPort) result.Set("port", Napi::Number::New(env, ntohs(sin.sin_port)));
  } else if (ss.ss_family == AF_INET6) {
    const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(ss);
    result.Set("address", AddrText(AF_INET6, &sin6.sin6_addr));
    if (withPort) result.Set("port", Napi::Number::New(env, ntohs(sin6.sin6_port)));
  }
}

int Family(Napi::Env env, Napi::Value v, const char* what) {
  if (v.IsNumber()) {
    int32_t f = v.As<Napi::Number>().Int32Value();
    if (f == 4) return AF_INET;
    if (f == 6) return AF_INET6;
  }
  ThrowType(env, std::string(what) + " must be 4 or 6");
}

// One entry of the error queue (IP_RECVERR / IPV6_RECVERR).
struct QueuedError {
  int err = 0;         // ee_errno; 0: the queue was empty
  std::string detail;  // "ICMP type 3 code 1 from 192.0.2.1", or "error queue"
};

// Reads (and so removes) one entry of the error queue.
QueuedError DrainErrQueue(int fd) {
  char data[1];
  alignas(cmsghdr) char control[512];
  iovec iov{data, sizeof(data)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  QueuedError q;
  if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return q;
  q.err = EIO;
  q.detail = "error queue";
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (!((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
          (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR))) {
      continue;
    }
    sock_extended_err ee;
    std::memcpy(&ee, CMSG_DATA(c), sizeof(ee));
    if (ee.ee_errno != 0) q.err = static_cast<int>(ee.ee_errno);
    if (ee.ee_origin != SO_EE_ORIGIN_ICMP && ee.ee_origin != SO_EE_ORIGIN_ICMP6) break;
    // The offender (the ICMP message's source) follows the struct.
    sockaddr_storage offender{};
    size_t have = c->cmsg_len - CMSG_LEN(sizeof(ee));
    std::memcpy(&offender, CMSG_DATA(c) + sizeof(ee), std::min(have, sizeof(offender)));
    std::string from;
    if (offender.ss_family == AF_INET) {
      from = AddrText(AF_INET, &reinterpret_cast<sockaddr_in&>(offender).sin_addr);
    } else if (offender.ss_family == AF_INET6) {
      from = AddrText(AF_INET6, &reinterpret_cast<sockaddr_in6&>(offender).sin6_addr);
    }
    q.detail = std::string(ee.ee_origin == SO_EE_ORIGIN_ICMP ? "ICMP" : "ICMPv6") + " type " +
               std::to_string(ee.ee_type) + " code " + std::to_string(ee.ee_code);
    if (!from.empty()) q.detail += " from " + from;
    break;
  }
  return q;
}

}  // namespace

// ---------------------------------------------------------------- RawSocket

Napi::Function RawSocket::Init(Napi::Env env) {
  return DefineSocketClass(
      env, "RawSocket",
      {
          InstanceMethod<&RawSocket::JS_bindToDevice>("bindToDevice"),
          InstanceMethod<&RawSocket::JS_setMark>("setMark"),
          InstanceMethod<&RawSocket::JS_bind>("bind"),
          InstanceMethod<&RawSocket::JS_connect>("connect"),
          InstanceMethod<&RawSocket::JS_localAddress>("localAddress"),
          InstanceMethod<&RawSocket::JS_joinMulticast>("joinMulticast"),
          InstanceMethod<&RawSocket::JS_leaveMulticast>("leaveMulticast"),
          InstanceMethod<&RawSocket::JS_setMulticastInterface>("setMulticastInterface"),
          InstanceMethod<&RawSocket::JS_setMulticastLoop>("setMulticastLoop"),
          InstanceMethod<&RawSocket::JS_setTtl>("setTtl"),
          InstanceMethod<&RawSocket::JS_enableRecvTtl>("enableRecvTtl"),
          InstanceMethod<&RawSocket::JS_enableRecvPktInfo>("enableRecvPktInfo"),
          InstanceMethod<&RawSocket::JS_send>("send"),
          InstanceMethod<&RawSocket::JS_recv>("recv"),
      });
}

RawSocket::RawSocket(const Napi::CallbackInfo& info)
    : PolledSocket(info, "rawSocket", "xlb:RawSocket") {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) ThrowType(env, "RawSocket: options must be an object");
  Napi::Object opts = info[0].As<Napi::Object>();
  family_ = Family(env, opts.Get("family"), "RawSocket: options.family");
  Napi::Value type = opts.Get("type");
  std::string typeName = type.IsString() ? type.As<Napi::String>().Utf8Value() : "";
  if (typeName == "raw") {
    type_ = SOCK_RAW;
  } else if (typeName == "dgram") {
    type_ = SOCK_DGRAM;
  } else {
    ThrowType(env, "RawSocket: options.type must be 'raw' or 'dgram'");
  }
  Napi::Value protocol = opts.Get("protocol");
  if (!protocol.IsNumber()) ThrowType(env, "RawSocket: options.protocol must be a number");
  OpenSocket(env, family_, type_, protocol.As<Napi::Number>().Int32Value());
}

void RawSocket::SetInt(Napi::Env env, int level, int name, int value, const char* what) {
  if (setsockopt(fd_, level, name, &value, sizeof(value)) != 0) {
    ThrowErrno(env, errno, "setsockopt", what);
  }
}

// bindToDevice(name): SO_BINDTODEVICE; "" removes the binding.
Napi::Value RawSocket::JS_bindToDevice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "bindToDevice");
  std::string name = StringArg(info, 0, "rawSocket.bindToDevice: name");
  if (setsockopt(fd_, SOL_SOCKET, SO_BINDTODEVICE, name.c_str(),
                 static_cast<socklen_t>(name.size())) != 0) {
    ThrowErrno(env, errno, "setsockopt", "SO_BINDTODEVICE " + name);
  }
  return env.Undefined();
}

Napi::Value RawSocket::JS_setMark(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "setMark");
  uint32_t mark = Uint32Arg(info, 0, "rawSocket.setMark: mark");
  if (setsockopt(fd_, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) != 0) {
    ThrowErrno(env, errno, "setsockopt", "SO_MARK");
  }
  return env.Undefined();
}

Napi::Value RawSocket::JS_bind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "bind");
  std::string address = StringArg(info, 0, "rawSocket.bind: address");
  uint32_t port = OptUint32Arg(info, 1, "rawSocket.bind: port", 0);
  sockaddr_storage ss;
  socklen_t len = ToSockaddr(env, family_, address, port, &ss, "rawSocket.bind: address");
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    ThrowErrno(env, errno, "bind", address);
  }
  return env.Undefined();
}

Napi::Value RawSocket::JS_connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "connect");
  std::string address = StringArg(info, 0, "rawSocket.connect: address");
  uint32_t port = OptUint32Arg(info, 1, "rawSocket.connect: port", 0);
  sockaddr_storage ss;
  socklen_t len = ToSockaddr(env, family_, address, port, &ss, "rawSocket.connect: address");
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    ThrowErrno(env, errno, "connect", address);
  }
  return env.Undefined();
}

// localAddress(): getsockname, { address, port }. For an ICMP datagram
// socket the port is the echo identifier the kernel uses.
Napi::Value RawSocket::JS_localAddress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "localAddress");
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    ThrowErrno(env, errno, "getsockname");
  }
  Napi::Object result = Napi::Object::New(env);
  SetAddress(env, result, ss, true);
  return result;
}

void RawSocket::Membership(const Napi::CallbackInfo& info, bool join) {
  Napi::Env env = info.Env();
  const char* method = join ? "joinMulticast" : "leaveMulticast";
  EnsureOpen(env, method);
  std::string what = std::string("rawSocket.") + method + ": group";
  std::string group = StringArg(info, 0, what.c_str());
  uint32_t ifindex = Uint32Arg(info, 1, (std::string("rawSocket.") + method + ": ifindex").c_str());
  sockaddr_storage ss;
  ToSockaddr(env, family_, group, 0, &ss, what);
  int rc;
  const char* opt;
  if (family_ == AF_INET) {
    ip_mreqn mreq{};
    mreq.imr_multiaddr = reinterpret_cast<sockaddr_in&>(ss).sin_addr;
    mreq.imr_ifindex = static_cast<int>(ifindex);
    opt = join ? "IP_ADD_MEMBERSHIP" : "IP_DROP_MEMBERSHIP";
    rc = setsockopt(fd_, SOL_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &mreq,
                    sizeof(mreq));
  } else {
    ipv6_mreq mreq{};
    mreq.ipv6mr_multiaddr = reinterpret_cast<sockaddr_in6&>(ss).sin6_addr;
    mreq.ipv6mr_interface = ifindex;
    opt = join ? "IPV6_ADD_MEMBERSHIP" : "IPV6_DROP_MEMBERSHIP";
    rc = setsockopt(fd_, SOL_IPV6, join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP, &mreq,
                    sizeof(mreq));
  }
  if (rc != 0) ThrowErrno(env, errno, "setsockopt", std::string(opt) + " " + group);
}

Napi::Value RawSocket::JS_joinMulticast(const Napi::CallbackInfo& info) {
  Membership(info, true);
  return info.Env().Undefined();
}

Napi::Value RawSocket::JS_leaveMulticast(const Napi::CallbackInfo& info) {
  Membership(info, false);
  return info.Env().Undefined();
}

// setMulticastInterface(ifindex): outgoing interface of multicast sends
// (IP_MULTICAST_IF with ip_mreqn / IPV6_MULTICAST_IF); 0 = by route.
Napi::Value RawSocket::JS_setMulticastInterface(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "setMulticastInterface");
  uint32_t ifindex = Uint32Arg(info, 0, "rawSocket.setMulticastInterface: ifindex");
  if (family_ == AF_INET) {
    ip_mreqn mreq{};
    mreq.imr_ifindex = static_cast<int>(ifindex);
    if (setsockopt(fd_, SOL_IP, IP_MULTICAST_IF, &mreq, sizeof(mreq)) != 0) {
      ThrowErrno(env, errno, "setsockopt", "IP_MULTICAST_IF");
    }
  } else {
    SetInt(env, SOL_IPV6, IPV6_MULTICAST_IF, static_cast<int>(ifindex), "IPV6_MULTICAST_IF");
  }
  return env.Undefined();
}

Napi::Value RawSocket::JS_setMulticastLoop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "setMulticastLoop");
  if (!info[0].IsBoolean()) ThrowType(env, "rawSocket.setMulticastLoop: on must be a boolean");
  int on = info[0].As<Napi::Boolean>().Value() ? 1 : 0;
  if (family_ == AF_INET) {
    SetInt(env, SOL_IP, IP_MULTICAST_LOOP, on, "IP_MULTICAST_LOOP");
  } else {
    SetInt(env, SOL_IPV6, IPV6_MULTICAST_LOOP, on, "IPV6_MULTICAST_LOOP");
  }
  return env.Undefined();
}

// setTtl(ttl): IPv4 TTL or IPv6 hop limit, unicast and multicast alike.
Napi::Value RawSocket::JS_setTtl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "setTtl");
  int ttl = static_cast<int>(Uint32Arg(info, 0, "rawSocket.setTtl: ttl"));
  if (family_ == AF_INET) {
    SetInt(env, SOL_IP, IP_TTL, ttl, "IP_TTL");
    SetInt(env, SOL_IP, IP_MULTICAST_TTL, ttl, "IP_MULTICAST_TTL");
  } else {
    SetInt(env, SOL_IPV6, IPV6_UNICAST_HOPS, ttl, "IPV6_UNICAST_HOPS");
    SetInt(env, SOL_IPV6, IPV6_MULTICAST_HOPS, ttl, "IPV6_MULTICAST_HOPS");
  }
  return env.Undefined();
}

// enableRecvTtl(on = true): recv() reports `ttl` (IP_RECVTTL /
// IPV6_RECVHOPLIMIT).
Napi::Value RawSocket::JS_enableRecvTtl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "enableRecvTtl");
  int on = info[0].IsUndefined() || info[0].ToBoolean().Value() ? 1 : 0;
  if (family_ == AF_INET) {
    SetInt(env, SOL_IP, IP_RECVTTL, on, "IP_RECVTTL");
  } else {
    SetInt(env, SOL_IPV6, IPV6_RECVHOPLIMIT, on, "IPV6_RECVHOPLIMIT");
  }
  return env.Undefined();
}

// enableRecvPktInfo(on = true): recv() reports `ifindex` and `destination`
// (IP_PKTINFO / IPV6_RECVPKTINFO).
Napi::Value RawSocket::JS_enableRecvPktInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "enableRecvPktInfo");
  int on = info[0].IsUndefined() || info[0].ToBoolean().Value() ? 1 : 0;
  if (family_ == AF_INET) {
    SetInt(env, SOL_IP, IP_PKTINFO, on, "IP_PKTINFO");
  } else {
    SetInt(env, SOL_IPV6, IPV6_RECVPKTINFO, on, "IPV6_RECVPKTINFO");
  }
  return env.Undefined();
}

// send(data, address?, port?): one datagram, never blocking; EAGAIN (and
// every other failure) throws. Without address the socket must be connected.
Napi::Value RawSocket::JS_send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "send");
  Napi::Buffer<uint8_t> data = AnyBufferArg(info, 0, "rawSocket.send: data");
  ssize_t n;
  if (info[1].IsUndefined()) {
    n = ::send(fd_, data.Data(), data.Length(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) ThrowErrno(env, errno, "send");
  } else {
    std::string address = StringArg(info, 1, "rawSocket.send: address");
    uint32_t port = OptUint32Arg(info, 2, "rawSocket.send: port", 0);
    sockaddr_storage ss;
    socklen_t len = ToSockaddr(env, family_, address, port, &ss, "rawSocket.send: address");
    n = ::sendto(fd_, data.Data(), data.Length(), MSG_DONTWAIT | MSG_NOSIGNAL,
                 reinterpret_cast<sockaddr*>(&ss), len);
    if (n < 0) ThrowErrno(env, errno, "sendto", address);
  }
  return Napi::Number::New(env, static_cast<double>(n));
}

// recv(): one datagram with its ancillary data, or null when none is queued.
Napi::Value RawSocket::JS_recv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "recv");
  if (rxBuf_.empty()) rxBuf_.resize(kRecvBufSize);
  sockaddr_storage from{};
  alignas(cmsghdr) char control[256];
  iovec iov{rxBuf_.data(), rxBuf_.size()};
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof(from);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n = recvmsg(fd_, &msg, MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    ThrowErrno(env, errno, "recvmsg");
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("data", Napi::Buffer<uint8_t>::Copy(env, rxBuf_.data(), static_cast<size_t>(n)));
  if (msg.msg_namelen > 0) SetAddress(env, result, from, type_ == SOCK_DGRAM);
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_TTL) ||
        (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
      int ttl;
      std::memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
      result.Set("ttl", Napi::Number::New(env, ttl));
    } else if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(c), sizeof(pi));
      result.Set("ifindex", Napi::Number::New(env, pi.ipi_ifindex));
      result.Set("destination", AddrText(AF_INET, &pi.ipi_addr));
    } else if (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(c), sizeof(pi));
      result.Set("ifindex", Napi::Number::New(env, pi.ipi6_ifindex));
      result.Set("destination", AddrText(AF_INET6, &pi.ipi6_addr));
    }
  }
  if (msg.msg_flags & MSG_TRUNC) result.Set("truncated", Napi::Boolean::New(env, true));
  return result;
}

// POLLERR on an IP socket: a non-empty IP_RECVERR queue or a pending socket
// error (SO_ERROR; with IP_RECVERR the kernel sets both for one ICMP error).
// Consumes one queue entry; the queued error, which says more, wins.
Napi::Value RawSocket::TakeSocketError(Napi::Env env) {
  QueuedError q = DrainErrQueue(fd_);
  int soerr = SocketError(fd_);  // read in any case: reading clears it
  if (q.err != 0) return ErrnoError(env, q.err, "recvmsg", q.detail).Value();
  if (soerr != 0) return ErrnoError(env, soerr, "recvmsg").Value();
  return Napi::Value();
}

// --------------------------------------------------------------- TcpConnect

Napi::Function TcpConnect::Init(Napi::Env env) {
  return DefineClass(env, "TcpConnect",
                     {
                         InstanceAccessor<&TcpConnect::JS_fd>("fd"),
                         InstanceMethod<&TcpConnect::JS_cancel>("cancel"),
                     });
}

TcpConnectSpec ParseTcpConnect(Napi::Env env, const Napi::Object& opts, const std::string& cls) {
  TcpConnectSpec spec;
  spec.family = Family(env, opts.Get("family"), (cls + ": options.family").c_str());
  Napi::Value address = opts.Get("address");
  Napi::Value port = opts.Get("port");
  Napi::Value mark = opts.Get("mark");
  Napi::Value device = opts.Get("device");
  Napi::Value bindAddress = opts.Get("bindAddress");
  Napi::Value bindPort = opts.Get("bindPort");
  Napi::Value delayAck = opts.Get("delayAck");
  if (!address.IsString()) ThrowType(env, cls + ": options.address must be a string");
  if (!port.IsNumber()) ThrowType(env, cls + ": options.port must be a number");
  if (!mark.IsUndefined() && !mark.IsNumber()) ThrowType(env, cls + ": options.mark must be a number");
  if (!device.IsUndefined() && !device.IsString()) ThrowType(env, cls + ": options.device must be a string");
  if (!bindAddress.IsUndefined() && !bindAddress.IsString()) {
    ThrowType(env, cls + ": options.bindAddress must be a string");
  }
  if (!bindPort.IsUndefined() && !bindPort.IsNumber()) {
    ThrowType(env, cls + ": options.bindPort must be a number");
  }
  std::string peer = address.As<Napi::String>().Utf8Value();
  uint32_t peerPort = port.As<Napi::Number>().Uint32Value();
  spec.toLen = ToSockaddr(env, spec.family, peer, peerPort, &spec.to, cls + ": options.address");
  spec.peer = peer + " port " + std::to_string(peerPort);
  if (mark.IsNumber()) {
    spec.hasMark = true;
    spec.mark = mark.As<Napi::Number>().Uint32Value();
  }
  if (device.IsString()) spec.device = device.As<Napi::String>().Utf8Value();
  spec.delayAck = delayAck.ToBoolean().Value();
  if (bindAddress.IsString()) {
    spec.local = bindAddress.As<Napi::String>().Utf8Value();
    uint32_t localPort = bindPort.IsNumber() ? bindPort.As<Napi::Number>().Uint32Value() : 0;
    spec.bindNoPort = localPort == 0;
    spec.fromLen = ToSockaddr(env, spec.family, spec.local, localPort, &spec.from, cls + ": options.bindAddress");
  }
  return spec;
}

int OpenTcpConnect(const TcpConnectSpec& spec, TcpConnectFailure* failure) {
  auto fail = [failure](int err, const char* syscall, std::string detail) {
    failure->err = err;
    failure->syscall = syscall;
    failure->detail = std::move(detail);
    return -1;
  };
  FdGuard fd{::socket(spec.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP)};
  if (fd.fd < 0) return fail(errno, "socket", "");
  if (spec.hasMark && setsockopt(fd.fd, SOL_SOCKET, SO_MARK, &spec.mark, sizeof(spec.mark)) != 0) {
    return fail(errno, "setsockopt", "SO_MARK");
  }
  if (!spec.device.empty() &&
      setsockopt(fd.fd, SOL_SOCKET, SO_BINDTODEVICE, spec.device.c_str(),
                 static_cast<socklen_t>(spec.device.size())) != 0) {
    return fail(errno, "setsockopt", "SO_BINDTODEVICE " + spec.device);
  }
  if (spec.delayAck) {
    // Delayed-ACK ("pingpong") mode from the start: the handshake's last
    // ACK rides on the first data instead of going alone (Linux
    // tcp_rcv_synsent_state_process, "Save one ACK"). Best effort.
    int zero = 0;
    setsockopt(fd.fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof(zero));
  }
  if (spec.fromLen != 0) {
    if (spec.bindNoPort) {
      // Pick the port at connect() time, by 4-tuple: a probe bound to one
      // address does not use up the ephemeral range. Best effort.
      int one = 1;
      setsockopt(fd.fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    }
    if (::bind(fd.fd, reinterpret_cast<const sockaddr*>(&spec.from), spec.fromLen) != 0) {
      return fail(errno, "bind", spec.local);
    }
  }
  if (::connect(fd.fd, reinterpret_cast<const sockaddr*>(&spec.to), spec.toLen) != 0 && errno != EINPROGRESS) {
    return fail(errno, "connect", spec.peer);
  }
  return fd.Release();
}

int OpenTcpConnect(Napi::Env env, const Napi::Object& opts, const std::string& cls, std::string* peerText) {
  TcpConnectSpec spec = ParseTcpConnect(env, opts, cls);
  TcpConnectFailure failure;
  int fd = OpenTcpConnect(spec, &failure);
  if (fd < 0) ThrowErrno(env, failure.err, failure.syscall, failure.detail);
  *peerText = spec.peer;
  return fd;
}

TcpConnect::TcpConnect(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<TcpConnect>(info), addon_(Addon::From(info.Env())) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) ThrowType(env, "TcpConnect: options must be an object");
  if (!info[1].IsFunction()) ThrowType(env, "TcpConnect: callback must be a function");
  uv_loop_t* loop = EventLoop(env);
  FdGuard fd{OpenTcpConnect(env, info[0].As<Napi::Object>(), "TcpConnect", &peer_)};
  // Writable = the handshake finished, one way or the other (SO_ERROR).
  int err = poll_.Start(loop, fd.fd, UV_WRITABLE, OnPoll, this);
  if (err != 0) ThrowErrno(env, err, "uv_poll_start");
  callback_ = Napi::Persistent(info[1].As<Napi::Function>());
  asyncContext_ = std::make_unique<Napi::AsyncContext>(env, "xlb:TcpConnect");
  fd_ = fd.Release();
  pending_ = true;
  Ref();  // a pending connect is not collected: the loop will call it
  addon_->live.insert(this);
}

TcpConnect::~TcpConnect() { CloseHandles(); }

void TcpConnect::CloseHandles() {
  poll_.Close();
  if (!pending_) return;
  pending_ = false;
  addon_->live.erase(this);
  ::close(fd_);
  fd_ = -1;
  callback_.Reset();
  asyncContext_.reset();
  Unref();
}

Napi::Value TcpConnect::JS_fd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), fd_);
}

Napi::Value TcpConnect::JS_cancel(const Napi::CallbackInfo& info) {
  CloseHandles();
  return info.Env().Undefined();
}

void TcpConnect::OnPoll(uv_poll_t* handle, int status, int /*events*/) {
  auto* self = static_cast<TcpConnect*>(handle->data);
  if (self == nullptr || !self->pending_) return;
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  int soerr = SocketError(self->fd_);
  if (soerr == 0 && status < 0) soerr = -status;
  // Hand over: the poll handle must be gone before another libuv handle
  // (net.Socket's) watches this fd.
  self->poll_.Close();
  self->pending_ = false;
  self->addon_->live.erase(self);
  int fd = self->fd_;
  self->fd_ = -1;
  Napi::Value err = env.Null();
  Napi::Value result = env.Undefined();
  if (soerr != 0) {
    ::close(fd);
    err = ErrnoError(env, soerr, "connect", self->peer_).Value();
  } else {
    result = Napi::Number::New(env, fd);
  }
  Napi::Object recv = self->Value();
  Napi::Function fn = self->callback_.Value();
  std::unique_ptr<Napi::AsyncContext> ctx = std::move(self->asyncContext_);
  self->callback_.Reset();
  self->Unref();  // may drop the last reference: self is not used below
  CallFromLoop(env, fn, recv, {err, result}, *ctx);
}

}  // namespace xlb
