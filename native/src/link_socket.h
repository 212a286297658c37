// link_socket.h - LinkSocket: the two non-IP socket families VRRP needs to
// move virtual addresses (DESIGN §3, H-22):
//
//   netlink  AF_NETLINK SOCK_RAW of any netlink protocol (NETLINK_ROUTE for
//            rtnetlink): bind with a port id and legacy multicast groups
//            (RTMGRP_*), datagrams to and from a port id (the kernel is 0).
//   packet   AF_PACKET SOCK_DGRAM or SOCK_RAW: frames to and from
//            (ifindex, link-layer address, ethertype). With SOCK_DGRAM the
//            kernel builds (on send) and strips (on receive) the link-layer
//            header.
//
// A sibling of RawSocket rather than a generalisation of it: every RawSocket
// method speaks IP (text addresses, ports, IP multicast, TTL, pktinfo, the IP
// error queue), while these families have other addresses (sockaddr_nl,
// sockaddr_ll) and none of those options; folding them in would make every
// RawSocket method branch on the family. What the two do share (polling,
// errors, lifetime, fd / setOption / getOption) is PolledSocket's
// (polled_socket.h).
//
// Moves bytes only (H-14): no netlink or ARP parsing here; the payloads are
// built and read in TypeScript (src/net/rtnetlink.ts, src/net/arp-nd.ts).
// Every fd is non-blocking and close-on-exec; nothing blocks the loop. A
// socket belongs to the network namespace of the thread that created it.
#ifndef XLB_NATIVE_LINK_SOCKET_H
#define XLB_NATIVE_LINK_SOCKET_H

#include <napi.h>

#include <cstdint>
#include <vector>

#include "polled_socket.h"

namespace xlb {

class LinkSocket : public PolledSocket<LinkSocket> {
 public:
  static Napi::Function Init(Napi::Env env);

  // new LinkSocket({ domain: 'netlink', protocol })
  // new LinkSocket({ domain: 'packet', type: 'dgram'|'raw', protocol })
  // protocol: the netlink protocol (NETLINK_ROUTE = 0), or for packet the
  // ethertype to receive in host order (0: receive nothing until bound).
  explicit LinkSocket(const Napi::CallbackInfo& info);

 private:
  Napi::Value JS_bindNetlink(const Napi::CallbackInfo& info);
  Napi::Value JS_bindPacket(const Napi::CallbackInfo& info);
  Napi::Value JS_localAddress(const Napi::CallbackInfo& info);
  Napi::Value JS_sendNetlink(const Napi::CallbackInfo& info);
  Napi::Value JS_sendPacket(const Napi::CallbackInfo& info);
  Napi::Value JS_recv(const Napi::CallbackInfo& info);

  Napi::Value TakeSocketError(Napi::Env env) override;
  // Throws unless open and (domain != 0) of that domain.
  void EnsureOpen(Napi::Env env, const char* method, int domain = 0) const;

  int domain_ = 0;  // AF_NETLINK or AF_PACKET
  int type_ = 0;    // SOCK_RAW or SOCK_DGRAM
  std::vector<uint8_t> rxBuf_;  // recv() scratch, allocated on first use
};

}  // namespace xlb

#endif  // XLB_NATIVE_LINK_SOCKET_H
