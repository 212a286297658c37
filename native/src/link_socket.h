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
// RawSocket method branch on the family. Polling, errors and lifetime follow
// RawSocket exactly.
//
// Moves bytes only (H-14): no netlink or ARP parsing here; the payloads are
// built and read in TypeScript (src/net/rtnetlink.ts, src/net/arp-nd.ts).
// Every fd is non-blocking and close-on-exec; nothing blocks the loop. A
// socket belongs to the network namespace of the thread that created it.
#ifndef XLB_NATIVE_LINK_SOCKET_H
#define XLB_NATIVE_LINK_SOCKET_H

#include <napi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "addon.h"
#include "uv_poll.h"

namespace xlb {

class LinkSocket : public Napi::ObjectWrap<LinkSocket>, public Closable {
 public:
  static Napi::Function Init(Napi::Env env);

  // new LinkSocket({ domain: 'netlink', protocol })
  // new LinkSocket({ domain: 'packet', type: 'dgram'|'raw', protocol })
  // protocol: the netlink protocol (NETLINK_ROUTE = 0), or for packet the
  // ethertype to receive in host order (0: receive nothing until bound).
  explicit LinkSocket(const Napi::CallbackInfo& info);
  ~LinkSocket() override;
  // Stops polling (dropping the callback and the self-reference start()
  // took), then closes the fd. Idempotent.
  void CloseHandles() override;

 private:
  Napi::Value JS_fd(const Napi::CallbackInfo& info);
  Napi::Value JS_setOption(const Napi::CallbackInfo& info);
  Napi::Value JS_getOption(const Napi::CallbackInfo& info);
  Napi::Value JS_bindNetlink(const Napi::CallbackInfo& info);
  Napi::Value JS_bindPacket(const Napi::CallbackInfo& info);
  Napi::Value JS_localAddress(const Napi::CallbackInfo& info);
  Napi::Value JS_sendNetlink(const Napi::CallbackInfo& info);
  Napi::Value JS_sendPacket(const Napi::CallbackInfo& info);
  Napi::Value JS_recv(const Napi::CallbackInfo& info);
  Napi::Value JS_start(const Napi::CallbackInfo& info);
  Napi::Value JS_stop(const Napi::CallbackInfo& info);
  Napi::Value JS_close(const Napi::CallbackInfo& info);

  static void OnPoll(uv_poll_t* handle, int status, int events);
  // Drops the callback and the self-reference; the poll handle stays.
  void StopPolling();
  // Throws unless open and (domain != 0) of that domain.
  void EnsureOpen(Napi::Env env, const char* method, int domain = 0) const;

  Addon* addon_;
  bool open_ = false;
  int fd_ = -1;
  int domain_ = 0;  // AF_NETLINK or AF_PACKET
  int type_ = 0;    // SOCK_RAW or SOCK_DGRAM
  uv_loop_t* loop_ = nullptr;
  UvPoll poll_;
  // Set while started (start() .. stop()/close()): the JS callback, the
  // async context it runs in, and a strong reference to this object, so a
  // polling socket is not collected while the loop can still call it.
  bool polling_ = false;
  Napi::FunctionReference callback_;
  // Shared so that OnPoll keeps it alive while stop()/close() run inside
  // the callback that uses it.
  std::shared_ptr<Napi::AsyncContext> asyncContext_;
  std::vector<uint8_t> rxBuf_;  // recv() scratch, allocated on first use
};

}  // namespace xlb

#endif  // XLB_NATIVE_LINK_SOCKET_H
