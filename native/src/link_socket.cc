// link_socket.cc - see link_socket.h.
#include "link_socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "errors.h"
#include "socket_util.h"

namespace xlb {
namespace {

// Largest datagram recv() returns in full. Netlink dump datagrams are at
// most 32 KiB (the kernel caps its dump skbs there); frames are far smaller.
// 65535 + 1 makes truncation visible (reported as `truncated`).
constexpr size_t kRecvBufSize = 65536;

const char* DomainName(int domain) { return domain == AF_NETLINK ? "netlink" : "packet"; }

// A link-layer address argument: a Buffer of at most 8 bytes (sll_addr).
Napi::Buffer<uint8_t> LinkAddrArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info[i].IsBuffer()) {
    Napi::Buffer<uint8_t> buf = info[i].As<Napi::Buffer<uint8_t>>();
    if (buf.Length() <= sizeof(sockaddr_ll::sll_addr)) return buf;
  }
  ThrowType(info.Env(), std::string(what) + " must be a Buffer of at most 8 bytes");
}

// { ifindex, protocol, hatype, pktType, address } of a sockaddr_ll, onto obj.
void SetLinkAddress(Napi::Env env, Napi::Object obj, const sockaddr_ll& sll) {
  obj.Set("ifindex", Napi::Number::New(env, sll.sll_ifindex));
  obj.Set("protocol", Napi::Number::New(env, ntohs(sll.sll_protocol)));
  obj.Set("hatype", Napi::Number::New(env, sll.sll_hatype));
  obj.Set("pktType", Napi::Number::New(env, sll.sll_pkttype));
  size_t halen = sll.sll_halen <= sizeof(sll.sll_addr) ? sll.sll_halen : sizeof(sll.sll_addr);
  obj.Set("address", Napi::Buffer<uint8_t>::Copy(env, sll.sll_addr, halen));
}

}  // namespace

Napi::Function LinkSocket::Init(Napi::Env env) {
  return DefineSocketClass(
      env, "LinkSocket",
      {
          InstanceMethod<&LinkSocket::JS_bindNetlink>("bindNetlink"),
          InstanceMethod<&LinkSocket::JS_bindPacket>("bindPacket"),
          InstanceMethod<&LinkSocket::JS_localAddress>("localAddress"),
          InstanceMethod<&LinkSocket::JS_sendNetlink>("sendNetlink"),
          InstanceMethod<&LinkSocket::JS_sendPacket>("sendPacket"),
          InstanceMethod<&LinkSocket::JS_recv>("recv"),
      });
}

LinkSocket::LinkSocket(const Napi::CallbackInfo& info)
    : PolledSocket(info, "linkSocket", "xlb:LinkSocket") {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) ThrowType(env, "LinkSocket: options must be an object");
  Napi::Object opts = info[0].As<Napi::Object>();
  Napi::Value domain = opts.Get("domain");
  std::string domainName = domain.IsString() ? domain.As<Napi::String>().Utf8Value() : "";
  if (domainName != "netlink" && domainName != "packet") {
    ThrowType(env, "LinkSocket: options.domain must be 'netlink' or 'packet'");
  }
  Napi::Value protocol = opts.Get("protocol");
  if (!protocol.IsNumber()) ThrowType(env, "LinkSocket: options.protocol must be a number");
  uint32_t proto = protocol.As<Napi::Number>().Uint32Value();
  int sockProto;
  if (domainName == "netlink") {
    domain_ = AF_NETLINK;
    type_ = SOCK_RAW;
    sockProto = static_cast<int>(proto);
  } else {
    domain_ = AF_PACKET;
    Napi::Value type = opts.Get("type");
    std::string typeName = type.IsString() ? type.As<Napi::String>().Utf8Value() : "";
    if (typeName == "dgram") {
      type_ = SOCK_DGRAM;
    } else if (typeName == "raw") {
      type_ = SOCK_RAW;
    } else {
      ThrowType(env, "LinkSocket: options.type must be 'dgram' or 'raw'");
    }
    // The ethertype goes to the kernel in network order (packet(7)).
    sockProto = htons(static_cast<uint16_t>(proto));
  }
  OpenSocket(env, domain_, type_, sockProto, DomainName(domain_));
}

void LinkSocket::EnsureOpen(Napi::Env env, const char* method, int domain) const {
  PolledSocket::EnsureOpen(env, method);
  if (domain != 0 && domain != domain_) {
    ThrowState(env, std::string("linkSocket.") + method + ": not a " + DomainName(domain) +
                        " socket");
  }
}

// bindNetlink(pid, groups): bind(2) with sockaddr_nl. pid 0 lets the kernel
// pick the port id; groups is the legacy 32-bit multicast group mask
// (RTMGRP_*). Groups above 32 are joined with setOption
// (SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group).
Napi::Value LinkSocket::JS_bindNetlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "bindNetlink", AF_NETLINK);
  uint32_t pid = Uint32Arg(info, 0, "linkSocket.bindNetlink: pid");
  uint32_t groups = Uint32Arg(info, 1, "linkSocket.bindNetlink: groups");
  sockaddr_nl snl{};
  snl.nl_family = AF_NETLINK;
  snl.nl_pid = pid;
  snl.nl_groups = groups;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&snl), sizeof(snl)) != 0) {
    char detail[64];
    std::snprintf(detail, sizeof(detail), "netlink pid %u groups 0x%x", pid, groups);
    ThrowErrno(env, errno, "bind", detail);
  }
  return env.Undefined();
}

// bindPacket(ifindex, protocol): bind(2) with sockaddr_ll: receive only
// frames of ethertype `protocol` (host order; 0: none) arriving on or
// leaving `ifindex` (0: any interface).
Napi::Value LinkSocket::JS_bindPacket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "bindPacket", AF_PACKET);
  uint32_t ifindex = Uint32Arg(info, 0, "linkSocket.bindPacket: ifindex");
  uint32_t protocol = Uint32Arg(info, 1, "linkSocket.bindPacket: protocol");
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(static_cast<uint16_t>(protocol));
  sll.sll_ifindex = static_cast<int>(ifindex);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0) {
    ThrowErrno(env, errno, "bind", "ifindex " + std::to_string(ifindex));
  }
  return env.Undefined();
}

// localAddress(): getsockname. netlink: { pid, groups } (pid is the port id
// the kernel assigned); packet: { ifindex, protocol, hatype, pktType, address }.
Napi::Value LinkSocket::JS_localAddress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "localAddress");
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    ThrowErrno(env, errno, "getsockname");
  }
  Napi::Object result = Napi::Object::New(env);
  if (domain_ == AF_NETLINK) {
    const auto& snl = reinterpret_cast<const sockaddr_nl&>(ss);
    result.Set("pid", Napi::Number::New(env, snl.nl_pid));
    result.Set("groups", Napi::Number::New(env, snl.nl_groups));
  } else {
    SetLinkAddress(env, result, reinterpret_cast<const sockaddr_ll&>(ss));
  }
  return result;
}

// sendNetlink(data, pid, groups): one datagram to port id `pid` (0: the
// kernel) and/or multicast `groups`. Never blocks; failures throw.
Napi::Value LinkSocket::JS_sendNetlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "sendNetlink", AF_NETLINK);
  Napi::Buffer<uint8_t> data = AnyBufferArg(info, 0, "linkSocket.sendNetlink: data");
  uint32_t pid = Uint32Arg(info, 1, "linkSocket.sendNetlink: pid");
  uint32_t groups = Uint32Arg(info, 2, "linkSocket.sendNetlink: groups");
  sockaddr_nl snl{};
  snl.nl_family = AF_NETLINK;
  snl.nl_pid = pid;
  snl.nl_groups = groups;
  ssize_t n = ::sendto(fd_, data.Data(), data.Length(), MSG_DONTWAIT | MSG_NOSIGNAL,
                       reinterpret_cast<sockaddr*>(&snl), sizeof(snl));
  if (n < 0) ThrowErrno(env, errno, "sendto", "netlink pid " + std::to_string(pid));
  return Napi::Number::New(env, static_cast<double>(n));
}

// sendPacket(data, ifindex, address, protocol): one frame out of `ifindex`.
// SOCK_DGRAM: the kernel prepends the link-layer header to `address`
// (destination, e.g. 6 bytes of MAC) with ethertype `protocol` (host order).
// SOCK_RAW: data is the whole frame; address is unused, protocol sets
// skb->protocol. Never blocks; failures throw (ENXIO/ENODEV: no such
// interface, ENETDOWN: interface down, EMSGSIZE: above the MTU).
Napi::Value LinkSocket::JS_sendPacket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "sendPacket", AF_PACKET);
  Napi::Buffer<uint8_t> data = AnyBufferArg(info, 0, "linkSocket.sendPacket: data");
  uint32_t ifindex = Uint32Arg(info, 1, "linkSocket.sendPacket: ifindex");
  Napi::Buffer<uint8_t> address = LinkAddrArg(info, 2, "linkSocket.sendPacket: address");
  uint32_t protocol = Uint32Arg(info, 3, "linkSocket.sendPacket: protocol");
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(static_cast<uint16_t>(protocol));
  sll.sll_ifindex = static_cast<int>(ifindex);
  sll.sll_halen = static_cast<unsigned char>(address.Length());
  std::memcpy(sll.sll_addr, address.Data(), address.Length());
  ssize_t n = ::sendto(fd_, data.Data(), data.Length(), MSG_DONTWAIT | MSG_NOSIGNAL,
                       reinterpret_cast<sockaddr*>(&sll), sizeof(sll));
  if (n < 0) ThrowErrno(env, errno, "sendto", "ifindex " + std::to_string(ifindex));
  return Napi::Number::New(env, static_cast<double>(n));
}

// recv(): one datagram, or null when none is queued.
// netlink: { data, pid, groups } (sender port id, 0 = the kernel; the
// multicast group mask it was sent to, 0 = unicast).
// packet: { data, ifindex, protocol, hatype, pktType, address } (address =
// the SOURCE link-layer address; pktType PACKET_HOST 0, BROADCAST 1,
// MULTICAST 2, OTHERHOST 3, OUTGOING 4).
// `truncated: true` when the datagram was longer than 65536 bytes.
Napi::Value LinkSocket::JS_recv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env, "recv");
  if (rxBuf_.empty()) rxBuf_.resize(kRecvBufSize);
  sockaddr_storage from{};
  iovec iov{rxBuf_.data(), rxBuf_.size()};
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof(from);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t n = recvmsg(fd_, &msg, MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    ThrowErrno(env, errno, "recvmsg", DomainName(domain_));
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("data", Napi::Buffer<uint8_t>::Copy(env, rxBuf_.data(), static_cast<size_t>(n)));
  if (domain_ == AF_NETLINK) {
    const auto& snl = reinterpret_cast<const sockaddr_nl&>(from);
    result.Set("pid", Napi::Number::New(env, snl.nl_pid));
    result.Set("groups", Napi::Number::New(env, snl.nl_groups));
  } else {
    SetLinkAddress(env, result, reinterpret_cast<const sockaddr_ll&>(from));
  }
  if (msg.msg_flags & MSG_TRUNC) result.Set("truncated", Napi::Boolean::New(env, true));
  return result;
}

// POLLERR on a netlink or packet socket: a pending socket error (netlink
// sets ENOBUFS when its receive queue overran). Reading SO_ERROR clears it.
// There is no MSG_ERRQUEUE read here: netlink has no error queue and would
// hand out (and lose) a datagram instead.
Napi::Value LinkSocket::TakeSocketError(Napi::Env env) {
  int soerr = SocketError(fd_);
  if (soerr == 0) return Napi::Value();
  return ErrnoError(env, soerr, "recvmsg", DomainName(domain_)).Value();
}

}  // namespace xlb
