/**
 * @module vrrp/garp
 * Gratuitous ARP and unsolicited neighbour advertisements for a new master's
 * addresses (keepalived.md §1.15): one send-only AF_PACKET socket; frames
 * built by src/net/arp-nd.ts (ARP request with SPA = TPA = the VIP to
 * ff:ff:ff:ff:ff:ff; NA from the VIP to ff02::1 with Override set and the
 * interface's MAC as target link-layer address). A burst of `count` is sent
 * back to back (keepalived's default garp_interval 0).
 *
 * Layer: I/O edge of the VRRP worker.
 */
import { PacketSocket } from '../native/socket.js';
import { gratuitousArpFrame, unsolicitedNaFrame } from '../net/arp-nd.js';
import type { GarpSender } from './io.js';

/**
 * Open the packet socket (needs CAP_NET_RAW).
 * @throws SystemError when it cannot be opened
 */
export function createGarpSender(): GarpSender {
  const s = new PacketSocket({ type: 'dgram' });
  return {
    send(ifindex, mac, family, address, count) {
      const f = family === 4 ? gratuitousArpFrame(address, mac) : unsolicitedNaFrame({ address, mac });
      for (let i = 0; i < count; i++) s.send(f.payload, { ifindex, destination: f.destination, protocol: f.ethertype });
    },
    close() {
      s.close();
    },
  };
}
