/**
 * The data path, packet by packet: crafted packets through BPF_PROG_TEST_RUN
 * against the real bpf/.output/xlb.bpf.o, in a namespace whose routes and
 * permanent neighbours make every bpf_fib_lookup() deterministic. Each case
 * asserts the verdict, every byte of the output and the counters (every
 * packet lands in exactly one reason). Root only.
 */
import { describe, it, before, after, beforeEach } from 'node:test';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import assert from 'node:assert/strict';
import { pkt, hexDiff, mulberry32, mutate, routingHeader, type Ipv6Ext, type PacketBuilder } from '../support/packet.js';
import { isRoot, LAB_MAC } from '../support/fib-lab.js';
import { XdpHarness, TCP, UDP, type TestService, type Verdict } from '../support/xdp-harness.js';
import { flowHash } from '../../src/lb/flow-hash.js';
import { parseAddr } from '../../src/net/addr.js';
import { buildMaglevRing } from '../../src/lb/maglev.js';
import { XdpDataplane, defaultObjectPath } from '../../src/dataplane/xdp/xdp-dataplane.js';
import { XlbBfdConsts, XlbMode, XlbReason, decodeXlbBfdEchoSlot, encodeXlbBfdEchoPkt } from '../../src/dataplane/xdp/abi.gen.js';
import { BfdEchoSlots } from '../../src/dataplane/xdp/bfd-echo.js';
import { native } from '../../src/native/binding.js';

const NODE = LAB_MAC.xa;
const CLIENT_MAC = LAB_MAC.client;
const C4 = '10.0.0.2';
const C6 = 'fd00::2';
const VIP4 = '10.9.0.1';
const VIP6 = 'fd09::1';
const TUN4 = '10.0.0.1';
const TUN6 = 'fd00::1';

interface Case {
  name: string;
  setup?: (h: XdpHarness) => void;
  input: (h: XdpHarness) => Buffer;
  ingress?: 'xa' | 'xc';
  verdict: Verdict;
  /** expected output; omitted = the input unchanged */
  output?: (h: XdpHarness) => Buffer;
  /** the one reason this packet counts in */
  reason: string;
  /** expected per-VIP / per-backend counters after the case */
  vip?: { id: number; packets: number; newFlows: number };
  backend?: { id: number; packets: number; newFlows: number };
  /** extra checks after the packet */
  then?: (h: XdpHarness) => void;
}

// --- services -------------------------------------------------------------

const dr4tcp: TestService = { vipId: 1, addr: VIP4, port: 80, proto: TCP, mode: 'dr', backends: [{ id: 1, addr: '10.0.0.10' }] };
const dr4udp: TestService = { vipId: 2, addr: VIP4, port: 53, proto: UDP, mode: 'dr', backends: [{ id: 2, addr: '10.0.0.10' }] };
const dr6tcp: TestService = { vipId: 3, addr: VIP6, port: 80, proto: TCP, mode: 'dr', backends: [{ id: 3, addr: 'fd00::10' }] };
const dr6udp: TestService = { vipId: 4, addr: VIP6, port: 53, proto: UDP, mode: 'dr', backends: [{ id: 4, addr: 'fd00::10' }] };
const tun4tcp: TestService = { vipId: 5, addr: '10.9.0.5', port: 80, proto: TCP, mode: 'tunnel', backends: [{ id: 5, addr: '10.0.0.11' }] };
const tun4udp: TestService = { vipId: 6, addr: '10.9.0.5', port: 53, proto: UDP, mode: 'tunnel', backends: [{ id: 6, addr: '10.1.0.10' }] };
const tun6tcp: TestService = { vipId: 7, addr: 'fd09::5', port: 80, proto: TCP, mode: 'tunnel', backends: [{ id: 7, addr: 'fd00::11' }] };
const tun6udp: TestService = { vipId: 8, addr: 'fd09::5', port: 53, proto: UDP, mode: 'tunnel', backends: [{ id: 8, addr: 'fd01::10' }] };
const nat4tcp: TestService = { vipId: 9, addr: '10.9.0.9', port: 80, proto: TCP, mode: 'nat', backends: [{ id: 9, addr: '10.0.0.12', port: 8080 }] };
const nat4udp: TestService = { vipId: 10, addr: '10.9.0.9', port: 53, proto: UDP, mode: 'nat', backends: [{ id: 10, addr: '10.0.0.12', port: 5353 }] };
const nat6tcp: TestService = { vipId: 11, addr: 'fd09::9', port: 80, proto: TCP, mode: 'nat', backends: [{ id: 11, addr: 'fd00::12', port: 8080 }] };
const nat6udp: TestService = { vipId: 12, addr: 'fd09::9', port: 53, proto: UDP, mode: 'nat', backends: [{ id: 12, addr: 'fd00::12' }] };
const multi: TestService = {
  vipId: 13,
  addr: '10.9.0.13',
  port: 443,
  proto: TCP,
  mode: 'dr',
  backends: [
    { id: 20, addr: '10.0.0.10' },
    { id: 21, addr: '10.0.0.11' },
    { id: 22, addr: '10.0.0.12' },
  ],
};
const BE_MAC: Record<string, string> = { '10.0.0.10': LAB_MAC.be10, '10.0.0.11': LAB_MAC.be11, '10.0.0.12': LAB_MAC.be12 };
const MULTI_ADDR: Record<number, string> = { 20: '10.0.0.10', 21: '10.0.0.11', 22: '10.0.0.12' };

/** Packet builders used by several cases. */
const tcp4 = (dst: string, dport: number, sport = 40000, payload = 'xlb-payload'): PacketBuilder =>
  pkt().eth(CLIENT_MAC, NODE).ipv4(C4, dst, { id: 7 }).tcp(sport, dport, { flags: { ack: true }, seq: 100 }).payload(payload);
const udp4 = (dst: string, dport: number, sport = 40001, payload = 'dns?'): PacketBuilder =>
  pkt().eth(CLIENT_MAC, NODE).ipv4(C4, dst, { id: 8 }).udp(sport, dport).payload(payload);
const tcp6 = (dst: string, dport: number, sport = 40002, payload = 'xlb-v6'): PacketBuilder =>
  pkt().eth(CLIENT_MAC, NODE).ipv6(C6, dst).tcp(sport, dport, { flags: { ack: true }, seq: 200 }).payload(payload);
const udp6 = (dst: string, dport: number, sport = 40003, payload = 'dns6?'): PacketBuilder =>
  pkt().eth(CLIENT_MAC, NODE).ipv6(C6, dst).udp(sport, dport).payload(payload);

/** The IPv6 outer flow label the program derives from the flow hash. */
function label6(src: string, dst: string, sport: number, dport: number, proto: number): number {
  const s = parseAddr(src);
  const d = parseAddr(dst);
  return flowHash({ family: 10, src: s.bytes, dst: d.bytes, sport, dport, proto }) & 0xfffff;
}

/** The inner packet (no Ethernet) of a builder chain starting at IP. */
const inner4tcp = (dst: string, dport: number, sport = 40000, payload = 'xlb-payload'): PacketBuilder =>
  pkt().ipv4(C4, dst, { id: 7 }).tcp(sport, dport, { flags: { ack: true }, seq: 100 }).payload(payload);

// --- the table ------------------------------------------------------------

const cases: Case[] = [
  // dr mode
  {
    name: 'dr v4 tcp: destination MAC rewritten, XDP_TX',
    setup: (h) => h.service(dr4tcp),
    input: () => tcp4(VIP4, 80).build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, LAB_MAC.be10).ipv4(C4, VIP4, { id: 7 }).tcp(40000, 80, { flags: { ack: true }, seq: 100 }).payload('xlb-payload').build(),
    reason: 'XLB_R_FWD_DR',
    vip: { id: 1, packets: 1, newFlows: 1 },
    backend: { id: 1, packets: 1, newFlows: 1 },
  },
  {
    name: 'dr v4 udp',
    setup: (h) => h.service(dr4udp),
    input: () => udp4(VIP4, 53).build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, LAB_MAC.be10).ipv4(C4, VIP4, { id: 8 }).udp(40001, 53).payload('dns?').build(),
    reason: 'XLB_R_FWD_DR',
    vip: { id: 2, packets: 1, newFlows: 1 },
  },
  {
    name: 'dr v6 tcp',
    setup: (h) => h.service(dr6tcp),
    input: () => tcp6(VIP6, 80).build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, LAB_MAC.be10).ipv6(C6, VIP6).tcp(40002, 80, { flags: { ack: true }, seq: 200 }).payload('xlb-v6').build(),
    reason: 'XLB_R_FWD_DR',
    backend: { id: 3, packets: 1, newFlows: 1 },
  },
  {
    name: 'dr v6 udp',
    setup: (h) => h.service(dr6udp),
    input: () => udp6(VIP6, 53).build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, LAB_MAC.be10).ipv6(C6, VIP6).udp(40003, 53).payload('dns6?').build(),
    reason: 'XLB_R_FWD_DR',
  },
  {
    name: 'dr: backend behind another device -> XDP_REDIRECT',
    setup: (h) => h.service({ ...dr4tcp, backends: [{ id: 1, addr: '10.1.0.10' }] }),
    input: () => tcp4(VIP4, 80).build(),
    verdict: 'REDIRECT',
    output: () => pkt().eth(LAB_MAC.xc, LAB_MAC.beC10).ipv4(C4, VIP4, { id: 7 }).tcp(40000, 80, { flags: { ack: true }, seq: 100 }).payload('xlb-payload').build(),
    reason: 'XLB_R_FWD_DR',
  },
  {
    name: 'dr: backend without a neighbour entry -> dropped, untouched',
    setup: (h) => h.service({ ...dr4tcp, backends: [{ id: 1, addr: '10.1.0.99' }] }),
    input: () => tcp4(VIP4, 80).build(),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_DR_NO_NEIGH',
  },
  {
    name: 'dr: backend not on-link (behind a gateway) -> dropped',
    setup: (h) => h.service({ ...dr4tcp, backends: [{ id: 1, addr: '10.2.0.5' }] }),
    input: () => tcp4(VIP4, 80).build(),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_DR_FIB',
  },
  // tunnel mode
  {
    name: 'tunnel v4 tcp: IPIP to the backend',
    setup: (h) => {
      h.service(tun4tcp);
      h.dp.setGlobals({ tunSrc4: 0x0a000001 });
    },
    input: () => tcp4('10.9.0.5', 80).build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, LAB_MAC.be11).ipv4(TUN4, '10.0.0.11', { proto: 4, ttl: 64, id: 0 }).inner(inner4tcp('10.9.0.5', 80)).build(),
    reason: 'XLB_R_FWD_TUNNEL',
    vip: { id: 5, packets: 1, newFlows: 1 },
  },
  {
    name: 'tunnel v4 udp: IPIP, backend behind xc -> XDP_REDIRECT, DF and TOS copied',
    setup: (h) => {
      h.service(tun4udp);
      h.dp.setGlobals({ tunSrc4: 0x0a000001 });
    },
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv4(C4, '10.9.0.5', { id: 8, df: true, tos: 0x28 }).udp(40001, 53).payload('dns?').build(),
    verdict: 'REDIRECT',
    output: () =>
      pkt()
        .eth(LAB_MAC.xc, LAB_MAC.beC10)
        .ipv4(TUN4, '10.1.0.10', { proto: 4, ttl: 64, id: 0, df: true, tos: 0x28 })
        .inner(pkt().ipv4(C4, '10.9.0.5', { id: 8, df: true, tos: 0x28 }).udp(40001, 53).payload('dns?'))
        .build(),
    reason: 'XLB_R_FWD_TUNNEL',
  },
  {
    name: 'tunnel v4: no configured source -> the kernel picks the egress address',
    setup: (h) => h.service(tun4tcp),
    input: () => tcp4('10.9.0.5', 80).build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, LAB_MAC.be11).ipv4('10.0.0.1', '10.0.0.11', { proto: 4, ttl: 64, id: 0 }).inner(inner4tcp('10.9.0.5', 80)).build(),
    reason: 'XLB_R_FWD_TUNNEL',
  },
  {
    name: 'tunnel v4: source entropy puts the flow hash in the low 16 bits',
    setup: (h) => {
      h.service(tun4tcp);
      h.dp.setGlobals({ tunSrc4: 0xac100000, flags: 1 });
    },
    input: () => tcp4('10.9.0.5', 80).build(),
    verdict: 'TX',
    output: () => {
      const s = parseAddr(C4);
      const d = parseAddr('10.9.0.5');
      const hsh = flowHash({ family: 2, src: s.bytes, dst: d.bytes, sport: 40000, dport: 80, proto: TCP });
      // the low 16 bits of the hash, stored as they sit in memory (host order u16 at bytes 2..3)
      const lo = Buffer.alloc(2);
      lo.writeUInt16LE(hsh & 0xffff);
      const src = `172.16.${lo[0]}.${lo[1]}`;
      return pkt().eth(NODE, LAB_MAC.be11).ipv4(src, '10.0.0.11', { proto: 4, ttl: 64, id: 0 }).inner(inner4tcp('10.9.0.5', 80)).build();
    },
    reason: 'XLB_R_FWD_TUNNEL',
  },
  {
    name: 'tunnel v6 tcp: IP6IP6, flow label from the flow hash',
    setup: (h) => {
      h.service(tun6tcp);
      h.dp.setGlobals({ tunSrc6: parseAddr(TUN6).bytes });
    },
    input: () => tcp6('fd09::5', 80).build(),
    verdict: 'TX',
    output: () =>
      pkt()
        .eth(NODE, LAB_MAC.be11)
        .ipv6(TUN6, 'fd00::11', { nextHeader: 41, hopLimit: 64, flowLabel: label6(C6, 'fd09::5', 40002, 80, TCP) })
        .inner(pkt().ipv6(C6, 'fd09::5').tcp(40002, 80, { flags: { ack: true }, seq: 200 }).payload('xlb-v6'))
        .build(),
    reason: 'XLB_R_FWD_TUNNEL',
  },
  {
    name: 'tunnel v6 udp: IP6IP6 behind xc -> XDP_REDIRECT',
    setup: (h) => {
      h.service(tun6udp);
      h.dp.setGlobals({ tunSrc6: parseAddr(TUN6).bytes });
    },
    input: () => udp6('fd09::5', 53).build(),
    verdict: 'REDIRECT',
    output: () =>
      pkt()
        .eth(LAB_MAC.xc, LAB_MAC.beC10)
        .ipv6(TUN6, 'fd01::10', { nextHeader: 41, hopLimit: 64, flowLabel: label6(C6, 'fd09::5', 40003, 53, UDP) })
        .inner(pkt().ipv6(C6, 'fd09::5').udp(40003, 53).payload('dns6?'))
        .build(),
    reason: 'XLB_R_FWD_TUNNEL',
  },
  {
    name: 'tunnel: encapsulated packet above the egress MTU -> dropped',
    setup: (h) => {
      h.service(tun4tcp);
      h.dp.setGlobals({ tunSrc4: 0x0a000001 });
    },
    input: () => tcp4('10.9.0.5', 80, 40000, 'x'.repeat(1500 - 40)).build(),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_TOO_BIG',
  },
  {
    name: 'tunnel: backend without a neighbour -> encapsulated and passed to the kernel',
    setup: (h) => {
      h.service({ ...tun4tcp, backends: [{ id: 5, addr: '10.1.0.99' }] });
      h.dp.setGlobals({ tunSrc4: 0x0a000001 });
    },
    input: () => tcp4('10.9.0.5', 80).build(),
    verdict: 'PASS',
    output: () => pkt().eth(CLIENT_MAC, NODE).ipv4(TUN4, '10.1.0.99', { proto: 4, ttl: 64, id: 0 }).inner(inner4tcp('10.9.0.5', 80)).build(),
    reason: 'XLB_R_PASS_NO_NEIGH',
  },
  // nat mode
  {
    name: 'nat v4 tcp: destination address and port rewritten, checksums fixed',
    setup: (h) => h.service(nat4tcp),
    input: () => tcp4('10.9.0.9', 80).build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, LAB_MAC.be12).ipv4(C4, '10.0.0.12', { id: 7 }).tcp(40000, 8080, { flags: { ack: true }, seq: 100 }).payload('xlb-payload').build(),
    reason: 'XLB_R_FWD_NAT',
    vip: { id: 9, packets: 1, newFlows: 1 },
    backend: { id: 9, packets: 1, newFlows: 1 },
  },
  {
    name: 'nat v4 udp',
    setup: (h) => h.service(nat4udp),
    input: () => udp4('10.9.0.9', 53).build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, LAB_MAC.be12).ipv4(C4, '10.0.0.12', { id: 8 }).udp(40001, 5353).payload('dns?').build(),
    reason: 'XLB_R_FWD_NAT',
  },
  {
    name: 'nat v4 udp without a checksum keeps checksum 0',
    setup: (h) => h.service(nat4udp),
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv4(C4, '10.9.0.9', { id: 8 }).udp(40001, 53, { checksum: 'none' }).payload('dns?').build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, LAB_MAC.be12).ipv4(C4, '10.0.0.12', { id: 8 }).udp(40001, 5353, { checksum: 'none' }).payload('dns?').build(),
    reason: 'XLB_R_FWD_NAT',
  },
  {
    name: 'nat v6 tcp',
    setup: (h) => h.service(nat6tcp),
    input: () => tcp6('fd09::9', 80).build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, LAB_MAC.be12).ipv6(C6, 'fd00::12').tcp(40002, 8080, { flags: { ack: true }, seq: 200 }).payload('xlb-v6').build(),
    reason: 'XLB_R_FWD_NAT',
  },
  {
    name: 'nat v6 udp, backend port 0 keeps the VIP port',
    setup: (h) => h.service(nat6udp),
    input: () => udp6('fd09::9', 53).build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, LAB_MAC.be12).ipv6(C6, 'fd00::12').udp(40003, 53).payload('dns6?').build(),
    reason: 'XLB_R_FWD_NAT',
  },
  {
    name: 'nat v4 reply path: backend -> client gets the VIP as source',
    setup: (h) => {
      h.service(nat4tcp);
      assert.equal(h.run(tcp4('10.9.0.9', 80).build()).verdict, 'TX'); // creates the reverse entry
      h.dp.clearCounters();
    },
    input: () => pkt().eth(LAB_MAC.be12, NODE).ipv4('10.0.0.12', C4, { id: 9 }).tcp(8080, 40000, { flags: { syn: true, ack: true }, seq: 5, ack: 101 }).payload('reply').build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, CLIENT_MAC).ipv4('10.9.0.9', C4, { id: 9 }).tcp(80, 40000, { flags: { syn: true, ack: true }, seq: 5, ack: 101 }).payload('reply').build(),
    reason: 'XLB_R_FWD_NAT_REPLY',
  },
  {
    name: 'nat v6 reply path',
    setup: (h) => {
      h.service(nat6udp);
      assert.equal(h.run(udp6('fd09::9', 53).build()).verdict, 'TX');
      h.dp.clearCounters();
    },
    input: () => pkt().eth(LAB_MAC.be12, NODE).ipv6('fd00::12', C6).udp(53, 40003).payload('answer').build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, CLIENT_MAC).ipv6('fd09::9', C6).udp(53, 40003).payload('answer').build(),
    reason: 'XLB_R_FWD_NAT_REPLY',
  },
  {
    name: 'nat: reply of an unknown flow is passed untouched',
    setup: (h) => {
      h.service(nat4tcp);
    },
    input: () => pkt().eth(LAB_MAC.be12, NODE).ipv4('10.0.0.12', C4).tcp(8080, 40999).payload('reply').build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_NO_VIP',
  },
  {
    name: 'nat: backend without a neighbour -> rewritten and passed to the kernel',
    setup: (h) => h.service({ ...nat4tcp, backends: [{ id: 9, addr: '10.1.0.99', port: 8080 }] }),
    input: () => tcp4('10.9.0.9', 80).build(),
    verdict: 'PASS',
    output: () => pkt().eth(CLIENT_MAC, NODE).ipv4(C4, '10.1.0.99', { id: 7 }).tcp(40000, 8080, { flags: { ack: true }, seq: 100 }).payload('xlb-payload').build(),
    reason: 'XLB_R_PASS_NO_NEIGH',
  },
  // connection table, Maglev, drain, removal, persistence
  {
    name: 'maglev: a new flow goes where the ring says',
    setup: (h) => h.service(multi),
    input: () => tcp4('10.9.0.13', 443, 41000).build(),
    verdict: 'TX',
    output: (h) => {
      const id = h.ringChoice(13, { src: C4, dst: '10.9.0.13', sport: 41000, dport: 443, proto: TCP });
      return pkt().eth(NODE, BE_MAC[MULTI_ADDR[id]!]!).ipv4(C4, '10.9.0.13', { id: 7 }).tcp(41000, 443, { flags: { ack: true }, seq: 100 }).payload('xlb-payload').build();
    },
    reason: 'XLB_R_FWD_DR',
    vip: { id: 13, packets: 1, newFlows: 1 },
  },
  {
    name: 'conn table hit: the flow keeps its backend after backends are added',
    setup: (h) => {
      h.service({ ...multi, backends: [{ id: 20, addr: '10.0.0.10' }] });
      assert.equal(h.run(tcp4('10.9.0.13', 443, sportMovedBy(h)).build()).verdict, 'TX');
      h.service(multi); // two more backends; the ring now sends this flow elsewhere
      h.dp.clearCounters();
    },
    input: (h) => tcp4('10.9.0.13', 443, sportMovedBy(h)).build(),
    verdict: 'TX',
    output: (h) => pkt().eth(NODE, LAB_MAC.be10).ipv4(C4, '10.9.0.13', { id: 7 }).tcp(sportMovedBy(h), 443, { flags: { ack: true }, seq: 100 }).payload('xlb-payload').build(),
    reason: 'XLB_R_FWD_DR',
    vip: { id: 13, packets: 1, newFlows: 0 },
    backend: { id: 20, packets: 1, newFlows: 0 },
  },
  {
    name: 'conn table miss: the same flow without an entry follows the new ring',
    setup: (h) => h.service(multi),
    input: (h) => tcp4('10.9.0.13', 443, sportMovedBy(h)).build(),
    verdict: 'TX',
    output: (h) => {
      const id = h.ringChoice(13, { src: C4, dst: '10.9.0.13', sport: sportMovedBy(h), dport: 443, proto: TCP });
      assert.notEqual(id, 20);
      return pkt().eth(NODE, BE_MAC[MULTI_ADDR[id]!]!).ipv4(C4, '10.9.0.13', { id: 7 }).tcp(sportMovedBy(h), 443, { flags: { ack: true }, seq: 100 }).payload('xlb-payload').build();
    },
    reason: 'XLB_R_FWD_DR',
    vip: { id: 13, packets: 1, newFlows: 1 },
  },
  {
    name: 'drain (weight 0): an existing flow stays on the draining backend',
    setup: (h) => {
      h.service(multi);
      const sport = sportOn(h, 21);
      assert.equal(h.run(tcp4('10.9.0.13', 443, sport).build()).verdict, 'TX');
      h.service({ ...multi, backends: multi.backends.map((b) => (b.id === 21 ? { ...b, weight: 0 } : b)) });
      h.dp.clearCounters();
    },
    input: (h) => tcp4('10.9.0.13', 443, sportOn(h, 21)).build(),
    verdict: 'TX',
    output: (h) => pkt().eth(NODE, LAB_MAC.be11).ipv4(C4, '10.9.0.13', { id: 7 }).tcp(sportOn(h, 21), 443, { flags: { ack: true }, seq: 100 }).payload('xlb-payload').build(),
    reason: 'XLB_R_FWD_DR',
    backend: { id: 21, packets: 1, newFlows: 0 },
  },
  {
    name: 'a SYN on a recorded 5-tuple (port reuse) is scheduled anew: a draining backend gets no new connection',
    setup: (h) => {
      h.service(multi);
      const sport = sportOn(h, 21);
      assert.equal(h.run(tcp4('10.9.0.13', 443, sport).build()).verdict, 'TX'); // recorded on 21
      h.service({ ...multi, backends: multi.backends.map((b) => (b.id === 21 ? { ...b, weight: 0 } : b)) });
      h.dp.clearCounters();
    },
    input: (h) => pkt().eth(CLIENT_MAC, NODE).ipv4(C4, '10.9.0.13', { id: 7 }).tcp(sportOn(h, 21), 443, { flags: { syn: true }, seq: 100 }).payload('xlb-payload').build(),
    verdict: 'TX',
    output: (h) => {
      const id = h.ringChoice(13, { src: C4, dst: '10.9.0.13', sport: sportOn(h, 21), dport: 443, proto: TCP });
      assert.notEqual(id, 21);
      return pkt().eth(NODE, BE_MAC[MULTI_ADDR[id]!]!).ipv4(C4, '10.9.0.13', { id: 7 }).tcp(sportOn(h, 21), 443, { flags: { syn: true }, seq: 100 }).payload('xlb-payload').build();
    },
    reason: 'XLB_R_FWD_DR',
    vip: { id: 13, packets: 1, newFlows: 1 },
    backend: { id: 21, packets: 0, newFlows: 0 },
  },
  {
    name: 'drain (weight 0): a new flow never goes to the draining backend',
    setup: (h) => h.service({ ...multi, backends: multi.backends.map((b) => (b.id === 21 ? { ...b, weight: 0 } : b)) }),
    input: () => tcp4('10.9.0.13', 443, 45000).build(),
    verdict: 'TX',
    output: (h) => {
      const id = h.ringChoice(13, { src: C4, dst: '10.9.0.13', sport: 45000, dport: 443, proto: TCP });
      assert.notEqual(id, 21);
      assert.ok(!h.rings.get(13)!.includes(21));
      return pkt().eth(NODE, BE_MAC[MULTI_ADDR[id]!]!).ipv4(C4, '10.9.0.13', { id: 7 }).tcp(45000, 443, { flags: { ack: true }, seq: 100 }).payload('xlb-payload').build();
    },
    reason: 'XLB_R_FWD_DR',
  },
  {
    name: 'backend removed: its flows are rescheduled by the ring',
    setup: (h) => {
      h.service(multi);
      const sport = sportOn(h, 22);
      assert.equal(h.run(tcp4('10.9.0.13', 443, sport).build()).verdict, 'TX');
      h.dp.clearBackend(22);
      h.service({ ...multi, backends: multi.backends.filter((b) => b.id !== 22) });
      h.dp.clearCounters();
    },
    input: (h) => tcp4('10.9.0.13', 443, sportOn22(h)).build(),
    verdict: 'TX',
    output: (h) => {
      const id = h.ringChoice(13, { src: C4, dst: '10.9.0.13', sport: sportOn22(h), dport: 443, proto: TCP });
      assert.notEqual(id, 22);
      return pkt().eth(NODE, BE_MAC[MULTI_ADDR[id]!]!).ipv4(C4, '10.9.0.13', { id: 7 }).tcp(sportOn22(h), 443, { flags: { ack: true }, seq: 100 }).payload('xlb-payload').build();
    },
    reason: 'XLB_R_FWD_DR',
    vip: { id: 13, packets: 1, newFlows: 1 },
    backend: { id: 22, packets: 0, newFlows: 0 },
  },
  {
    name: 'backend down (UP flag cleared, still in the ring) -> packets dropped, never sent to it',
    setup: (h) => h.service({ ...multi, backends: [{ id: 20, addr: '10.0.0.10', flags: 0 }] }),
    input: () => tcp4('10.9.0.13', 443).build(),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_NO_BACKEND',
  },
  {
    name: 'persistence: every port of one client lands on the source-hash backend',
    setup: (h) => {
      h.service({ ...multi, persist: true });
      for (const sp of [50001, 50002, 50003]) assert.equal(h.run(tcp4('10.9.0.13', 443, sp).build()).verdict, 'TX');
      const id = h.ringChoice(13, { src: C4, dst: '10.9.0.13', sport: 0, dport: 0, proto: 0 }, true);
      assert.equal(h.dp.backendStats(id).packets, 3n, 'three ports, one backend');
      h.dp.clearCounters();
    },
    input: () => tcp4('10.9.0.13', 443, 50004).build(),
    verdict: 'TX',
    output: (h) => {
      const id = h.ringChoice(13, { src: C4, dst: '10.9.0.13', sport: 0, dport: 0, proto: 0 }, true);
      const b = h.dp.backendStats(id);
      assert.equal(b.packets, 1n);
      return pkt().eth(NODE, BE_MAC[MULTI_ADDR[id]!]!).ipv4(C4, '10.9.0.13', { id: 7 }).tcp(50004, 443, { flags: { ack: true }, seq: 100 }).payload('xlb-payload').build();
    },
    reason: 'XLB_R_FWD_DR',
    then: (h) => {
      const id = h.ringChoice(13, { src: C4, dst: '10.9.0.13', sport: 0, dport: 0, proto: 0 }, true);
      assert.equal(h.dp.backendStats(id).newFlows, 1n);
    },
  },
  {
    name: 'all-ports VIP (port 0) takes any port',
    setup: (h) => {
      h.service({ ...dr4tcp, vipId: 14, port: 0, backends: [{ id: 30, addr: '10.0.0.11' }] });
      h.dp.setGlobals({ wildcardVips: 1 });
    },
    input: () => tcp4(VIP4, 12345).build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, LAB_MAC.be11).ipv4(C4, VIP4, { id: 7 }).tcp(40000, 12345, { flags: { ack: true }, seq: 100 }).payload('xlb-payload').build(),
    reason: 'XLB_R_FWD_DR',
    vip: { id: 14, packets: 1, newFlows: 1 },
  },
  {
    name: 'a port VIP wins over the all-ports VIP on the same address',
    setup: (h) => {
      h.service({ ...dr4tcp, vipId: 14, port: 0, backends: [{ id: 30, addr: '10.0.0.11' }] });
      h.service(dr4tcp);
      h.dp.setGlobals({ wildcardVips: 1 });
    },
    input: () => tcp4(VIP4, 80).build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, LAB_MAC.be10).ipv4(C4, VIP4, { id: 7 }).tcp(40000, 80, { flags: { ack: true }, seq: 100 }).payload('xlb-payload').build(),
    reason: 'XLB_R_FWD_DR',
    vip: { id: 1, packets: 1, newFlows: 1 },
  },
  {
    name: 'VIP with an empty ring -> dropped',
    setup: (h) => h.service({ ...dr4tcp, backends: [] }),
    input: () => tcp4(VIP4, 80).build(),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_NO_BACKEND',
  },
  // ICMP
  {
    name: 'ICMP echo request to a VIP answered in XDP',
    setup: (h) => h.service(dr4tcp),
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv4(C4, VIP4, { id: 3 }).icmp(8, 0, { id: 0x1234, seq: 1 }).payload('ping-data').build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, CLIENT_MAC).ipv4(VIP4, C4, { id: 3 }).icmp(0, 0, { id: 0x1234, seq: 1 }).payload('ping-data').build(),
    reason: 'XLB_R_TX_ICMP_ECHO',
  },
  {
    name: 'ICMPv6 echo request to a VIP answered in XDP',
    setup: (h) => h.service(dr6tcp),
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv6(C6, VIP6).icmp6(128, 0, { id: 0x4321, seq: 2 }).payload('ping6').build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, CLIENT_MAC).ipv6(VIP6, C6).icmp6(129, 0, { id: 0x4321, seq: 2 }).payload('ping6').build(),
    reason: 'XLB_R_TX_ICMP_ECHO',
  },
  {
    name: 'ICMP echo to a non-VIP address is passed',
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv4(C4, '10.0.0.1').icmp(8, 0, { id: 1, seq: 1 }).build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_NO_VIP',
  },
  {
    name: 'other ICMP to a VIP (timestamp) is passed',
    setup: (h) => h.service(dr4tcp),
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv4(C4, VIP4).icmp(13, 0, { id: 1, seq: 1 }).payload(Buffer.alloc(12)).build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_ICMP',
  },
  {
    name: 'ICMP frag-needed about a dr flow goes to that flow\'s backend',
    setup: (h) => h.service(dr4tcp),
    input: () =>
      pkt()
        .eth(LAB_MAC.gw, NODE)
        .ipv4('10.0.0.254', VIP4)
        .icmp(3, 4, { mtu: 1400 })
        .inner(pkt().ipv4(VIP4, C4, { df: true }).tcp(80, 40000, { flags: { ack: true } }).truncate(28))
        .build(),
    verdict: 'TX',
    output: () =>
      pkt()
        .eth(NODE, LAB_MAC.be10)
        .ipv4('10.0.0.254', VIP4)
        .icmp(3, 4, { mtu: 1400 })
        .inner(pkt().ipv4(VIP4, C4, { df: true }).tcp(80, 40000, { flags: { ack: true } }).truncate(28))
        .build(),
    reason: 'XLB_R_FWD_ICMP_PTB',
  },
  {
    name: 'ICMPv6 packet-too-big about a tunnel flow is encapsulated to that flow\'s backend',
    setup: (h) => {
      h.service(tun6tcp);
      h.dp.setGlobals({ tunSrc6: parseAddr(TUN6).bytes });
    },
    input: () =>
      pkt()
        .eth(LAB_MAC.gw, NODE)
        .ipv6('fd00::fe', 'fd09::5')
        .icmp6(2, 0, { mtu: 1280 })
        .inner(pkt().ipv6('fd09::5', C6).tcp(80, 40002, { flags: { ack: true } }).payload('x'.repeat(40)))
        .build(),
    verdict: 'TX',
    output: () =>
      pkt()
        .eth(NODE, LAB_MAC.be11)
        .ipv6(TUN6, 'fd00::11', { nextHeader: 41, hopLimit: 64, flowLabel: label6(C6, 'fd09::5', 40002, 80, TCP) })
        .inner(
          pkt()
            .ipv6('fd00::fe', 'fd09::5')
            .icmp6(2, 0, { mtu: 1280 })
            .inner(pkt().ipv6('fd09::5', C6).tcp(80, 40002, { flags: { ack: true } }).payload('x'.repeat(40))),
        )
        .build(),
    reason: 'XLB_R_FWD_ICMP_PTB',
  },
  {
    name: 'ICMP frag-needed quoting a non-VIP flow is passed',
    setup: (h) => h.service(dr4tcp),
    input: () =>
      pkt()
        .eth(LAB_MAC.gw, NODE)
        .ipv4('10.0.0.254', VIP4)
        .icmp(3, 4, { mtu: 1400 })
        .inner(pkt().ipv4(VIP4, C4).tcp(8080, 40000).truncate(28))
        .build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_ICMP',
  },
  // fragments, options, VLAN
  {
    name: 'IPv4 first fragment (MF) to a VIP is passed untouched',
    setup: (h) => h.service(dr4tcp),
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv4(C4, VIP4, { mf: true }).tcp(40000, 80).payload('frag').build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_FRAGMENT',
  },
  {
    name: 'IPv4 later fragment (offset) to a VIP is passed untouched',
    setup: (h) => h.service(dr4udp),
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv4(C4, VIP4, { fragOffset: 185, proto: UDP }).payload('tail-of-datagram').build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_FRAGMENT',
  },
  {
    name: 'IPv6 fragment header to a VIP is passed untouched',
    setup: (h) => h.service(dr6udp),
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv6(C6, VIP6, { ext: [{ type: 44 }] }).udp(40003, 53).payload('frag6').build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_FRAGMENT',
  },
  {
    name: 'IPv6 destination-options header is walked; the packet is forwarded',
    setup: (h) => h.service(dr6udp),
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv6(C6, VIP6, { ext: [{ type: 60 }] }).udp(40003, 53).payload('opts6').build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, LAB_MAC.be10).ipv6(C6, VIP6, { ext: [{ type: 60 }] }).udp(40003, 53).payload('opts6').build(),
    reason: 'XLB_R_FWD_DR',
  },
  {
    name: 'IPv4 with options to a nat VIP: forwarded, options intact, checksums right',
    setup: (h) => h.service(nat4tcp),
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv4(C4, '10.9.0.9', { id: 7, options: Buffer.from([1, 1, 1, 0]) }).tcp(40000, 80, { seq: 100 }).payload('opt').build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, LAB_MAC.be12).ipv4(C4, '10.0.0.12', { id: 7, options: Buffer.from([1, 1, 1, 0]) }).tcp(40000, 8080, { seq: 100 }).payload('opt').build(),
    reason: 'XLB_R_FWD_NAT',
  },
  {
    name: 'VLAN-tagged packet to a dr VIP: tag kept, back out with XDP_TX',
    setup: (h) => h.service(dr4tcp),
    input: () => pkt().eth(CLIENT_MAC, NODE).vlan(100).ipv4(C4, VIP4, { id: 7 }).tcp(40000, 80, { seq: 100 }).payload('tagged').build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, LAB_MAC.be10).vlan(100).ipv4(C4, VIP4, { id: 7 }).tcp(40000, 80, { seq: 100 }).payload('tagged').build(),
    reason: 'XLB_R_FWD_DR',
  },
  {
    name: 'VLAN-tagged packet to a tunnel VIP: outer header after the tag',
    setup: (h) => {
      h.service(tun4tcp);
      h.dp.setGlobals({ tunSrc4: 0x0a000001 });
    },
    input: () => pkt().eth(CLIENT_MAC, NODE).vlan(100).ipv4(C4, '10.9.0.5', { id: 7 }).tcp(40000, 80, { flags: { ack: true }, seq: 100 }).payload('xlb-payload').build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, LAB_MAC.be11).vlan(100).ipv4(TUN4, '10.0.0.11', { proto: 4, ttl: 64, id: 0 }).inner(inner4tcp('10.9.0.5', 80)).build(),
    reason: 'XLB_R_FWD_TUNNEL',
  },
  {
    name: 'VLAN-tagged packet whose backend is behind another device is passed',
    setup: (h) => h.service({ ...dr4tcp, backends: [{ id: 1, addr: '10.1.0.10' }] }),
    input: () => pkt().eth(CLIENT_MAC, NODE).vlan(100).ipv4(C4, VIP4).tcp(40000, 80).payload('tagged').build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_VLAN_FWD',
  },
  // not for us
  {
    name: 'non-VIP TCP (ssh to the node) is passed untouched',
    setup: (h) => h.service(dr4tcp),
    input: () => tcp4('10.0.0.1', 22).build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_NO_VIP',
  },
  {
    name: 'VIP address, port without a VIP is passed untouched',
    setup: (h) => h.service(dr4tcp),
    input: () => tcp4(VIP4, 81).build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_NO_VIP',
  },
  {
    name: 'ARP is passed',
    input: () => Buffer.concat([pkt().eth(CLIENT_MAC, 'ff:ff:ff:ff:ff:ff').build().subarray(0, 12), Buffer.from('080600010800060400010200000000020a0000020000000000000a000001', 'hex')]),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_NOT_IP',
  },
  {
    name: 'GRE to a VIP address is passed',
    setup: (h) => h.service(dr4tcp),
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv4(C4, VIP4, { proto: 47 }).payload(Buffer.from('00000800', 'hex')).build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_L4',
  },
  {
    name: 'VRRP multicast is passed',
    input: () => pkt().eth(CLIENT_MAC, '01:00:5e:00:00:12').ipv4(C4, '224.0.0.18', { proto: 112, ttl: 255 }).payload(Buffer.from('3101640100010000', 'hex')).build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_NO_VIP',
  },
  {
    name: 'a deleted VIP: its recorded flows are not forwarded',
    setup: (h) => {
      h.service(dr4tcp);
      assert.equal(h.run(tcp4(VIP4, 80).build()).verdict, 'TX');
      assert.ok(h.dp.deleteVip(VIP4, 80, TCP));
      h.dp.clearCounters();
    },
    input: () => tcp4(VIP4, 80).build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_NO_VIP',
  },
  {
    name: 'a VIP id given to another VIP: the old owner\'s records no longer hit',
    setup: (h) => {
      h.service(multi);
      const sport = sportOn(h, 21);
      assert.equal(h.run(tcp4('10.9.0.13', 443, sport).build()).verdict, 'TX');
      assert.ok(h.dp.deleteVip('10.9.0.13', 443, TCP));
      // id 13 now serves another address, with the same backend ids and ring
      h.service({ ...multi, addr: '10.9.0.14' });
      h.service({ ...multi, vipId: 15, backends: [{ id: 40, addr: '10.0.0.12' }] });
      h.dp.clearCounters();
    },
    input: (h) => tcp4('10.9.0.13', 443, sportOn(h, 21)).build(),
    verdict: 'TX',
    output: (h) => pkt().eth(NODE, LAB_MAC.be12).ipv4(C4, '10.9.0.13', { id: 7 }).tcp(sportOn(h, 21), 443, { flags: { ack: true }, seq: 100 }).payload('xlb-payload').build(),
    reason: 'XLB_R_FWD_DR',
    vip: { id: 15, packets: 1, newFlows: 1 },
    backend: { id: 21, packets: 0, newFlows: 0 },
  },
  {
    name: 'ICMP frag-needed about a nat flow is translated as the flow is and sent to its backend',
    setup: (h) => h.service(nat4tcp),
    input: () =>
      pkt()
        .eth(LAB_MAC.gw, NODE)
        .ipv4('10.0.0.254', '10.9.0.9')
        .icmp(3, 4, { mtu: 1400 })
        .inner(pkt().ipv4('10.9.0.9', C4, { df: true }).tcp(80, 40000, { flags: { ack: true }, seq: 5 }).payload('x'.repeat(20)))
        .build(),
    verdict: 'TX',
    output: () =>
      pkt()
        .eth(NODE, LAB_MAC.be12)
        .ipv4('10.0.0.254', '10.0.0.12')
        .icmp(3, 4, { mtu: 1400 })
        .inner(pkt().ipv4('10.0.0.12', C4, { df: true }).tcp(8080, 40000, { flags: { ack: true }, seq: 5 }).payload('x'.repeat(20)))
        .build(),
    reason: 'XLB_R_FWD_ICMP_PTB',
  },
  {
    name: 'ICMP frag-needed about a nat flow, quote cut after the ports: translated, ICMP checksum right',
    setup: (h) => h.service(nat4tcp),
    input: () =>
      pkt()
        .eth(LAB_MAC.gw, NODE)
        .ipv4('10.0.0.254', '10.9.0.9')
        .icmp(3, 4, { mtu: 1400 })
        .inner(pkt().ipv4('10.9.0.9', C4, { df: true }).tcp(80, 40000, { flags: { ack: true } }).truncate(28))
        .build(),
    verdict: 'TX',
    output: () => {
      // the quote keeps the TCP checksum of the original segment (it is cut off here)
      return pkt()
        .eth(NODE, LAB_MAC.be12)
        .ipv4('10.0.0.254', '10.0.0.12')
        .icmp(3, 4, { mtu: 1400 })
        .inner(pkt().ipv4('10.0.0.12', C4, { df: true }).tcp(8080, 40000, { flags: { ack: true } }).truncate(28))
        .build();
    },
    reason: 'XLB_R_FWD_ICMP_PTB',
  },
  {
    name: 'ICMPv6 packet-too-big about a nat flow is translated and sent to its backend',
    setup: (h) => h.service(nat6udp),
    input: () =>
      pkt()
        .eth(LAB_MAC.gw, NODE)
        .ipv6('fd00::fe', 'fd09::9')
        .icmp6(2, 0, { mtu: 1280 })
        .inner(pkt().ipv6('fd09::9', C6).udp(53, 40003).payload('answer'))
        .build(),
    verdict: 'TX',
    output: () =>
      pkt()
        .eth(NODE, LAB_MAC.be12)
        .ipv6('fd00::fe', 'fd00::12')
        .icmp6(2, 0, { mtu: 1280 })
        .inner(pkt().ipv6('fd00::12', C6).udp(53, 40003).payload('answer'))
        .build(),
    reason: 'XLB_R_FWD_ICMP_PTB',
  },
  {
    name: 'IPv6 extension chain longer than the walk bound is passed',
    setup: (h) => h.service(dr6udp),
    input: () =>
      pkt()
        .eth(CLIENT_MAC, NODE)
        .ipv6(C6, VIP6, { ext: Array.from({ length: 7 }, () => ({ type: 60 })) })
        .udp(40003, 53)
        .payload('deep')
        .build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_IPV6_EXT',
  },
  // malformed
  {
    name: 'UDP length beyond the IP packet is dropped',
    setup: (h) => h.service(dr4udp),
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv4(C4, VIP4).udp(40001, 53, { length: 200 }).payload('dns?').build(),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_BAD_L4',
  },
  {
    name: 'UDP length below 8 is dropped',
    setup: (h) => h.service(dr4udp),
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv4(C4, VIP4).udp(40001, 53, { length: 4 }).payload('dns?').build(),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_BAD_L4',
  },
  {
    // (BPF_PROG_TEST_RUN refuses frames under 14 bytes, so the shortest frame is a bare Ethernet header.)
    name: 'bare Ethernet header announcing IPv4 is dropped',
    input: () => tcp4(VIP4, 80).build().subarray(0, 14),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_TRUNC_IP',
  },
  {
    name: 'VLAN tag cut short is dropped',
    input: () => pkt().eth(CLIENT_MAC, NODE).vlan(100).ipv4(C4, VIP4).tcp(1, 80).build().subarray(0, 16),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_TRUNC_ETH',
  },
  {
    name: 'IPv4 header cut short is dropped',
    input: () => tcp4(VIP4, 80).build().subarray(0, 14 + 12),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_TRUNC_IP',
  },
  {
    name: 'IPv4 options cut short (IHL beyond the frame) is dropped',
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv4(C4, VIP4, { ihl: 15, totalLength: 20 }).build(),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_TRUNC_IP',
  },
  {
    name: 'IPv4 IHL < 5 is dropped',
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv4(C4, VIP4, { ihl: 4 }).tcp(40000, 80).build(),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_BAD_IP',
  },
  {
    name: 'IPv4 total length beyond the frame is dropped',
    setup: (h) => h.service(dr4tcp),
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv4(C4, VIP4, { totalLength: 1400 }).tcp(40000, 80).build(),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_BAD_IP',
  },
  {
    name: 'IPv4 version field 6 in an IPv4 frame is dropped',
    input: () => {
      const b = tcp4(VIP4, 80).build();
      b[14] = 0x65;
      return b;
    },
    verdict: 'DROP',
    reason: 'XLB_R_DROP_BAD_IP',
  },
  {
    name: 'TCP header cut short is dropped',
    setup: (h) => h.service(dr4tcp),
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv4(C4, VIP4, { totalLength: 30 }).tcp(40000, 80).build().subarray(0, 14 + 30),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_TRUNC_L4',
  },
  {
    name: 'UDP header cut short is dropped',
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv4(C4, VIP4, { totalLength: 24 }).udp(40000, 53).build().subarray(0, 14 + 24),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_TRUNC_L4',
  },
  {
    name: 'ICMP header cut short is dropped',
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv4(C4, VIP4, { totalLength: 24 }).icmp(8, 0).build().subarray(0, 14 + 24),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_TRUNC_L4',
  },
  {
    name: 'IPv6 header cut short is dropped',
    input: () => tcp6(VIP6, 80).build().subarray(0, 14 + 30),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_TRUNC_IP',
  },
  {
    name: 'IPv6 payload length beyond the frame is dropped',
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv6(C6, VIP6, { payloadLength: 900 }).tcp(40000, 80).build(),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_BAD_IP',
  },
  {
    name: 'IPv6 extension header cut short is dropped',
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv6(C6, VIP6, { nextHeader: 60, payloadLength: 1 }).payload(Buffer.from([17])).build(),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_IPV6_EXT',
  },
  {
    name: 'TCP data offset below 5 is dropped',
    input: () => {
      const b = tcp4(VIP4, 80).build();
      b[14 + 20 + 12] = 0x40;
      return b;
    },
    verdict: 'DROP',
    reason: 'XLB_R_DROP_TRUNC_L4',
  },
];

// --- IPv6 routing headers ---------------------------------------------------
// RFC 8200 §4.4: a routing header with segments left > 0 names a next node
// of the route, the destination address is not the packet's final one; RFC
// 5095 (type 0) has such a packet answered with a parameter problem. Those go
// to the kernel untouched; segments left 0 is walked past as any extension.

/** The end of the route when segments are left: not this node's. */
const FINAL6 = 'fd0f::99';
const RH_TYPES = [0, 2, 3, 4] as const;

/** A routing header of `type` on a packet to `vip`, with `left` segments left. */
function rh(type: number, left: number, vip: string): Ipv6Ext {
  // type 4 lists segments last first: Segment List[left] is the active one (the VIP)
  const addrs = type === 4 ? (left ? [FINAL6, vip] : [vip, FINAL6]) : [FINAL6];
  return routingHeader(type, left, addrs);
}

interface RhMode {
  mode: 'dr' | 'tunnel' | 'nat';
  svc: TestService;
  setup?: (h: XdpHarness) => void;
  /** the forwarded frame of `ip6` (a client packet to the VIP, built from IPv6 on) */
  out: (ip6: (dst?: string, dport?: number) => PacketBuilder) => Buffer;
  reason: string;
}
const RH_SYN = { flags: { syn: true }, seq: 300 } as const;
const rhModes: RhMode[] = [
  { mode: 'dr', svc: dr6tcp, out: (ip6) => pkt().eth(NODE, LAB_MAC.be10).inner(ip6()).build(), reason: 'XLB_R_FWD_DR' },
  {
    mode: 'tunnel',
    svc: tun6tcp,
    setup: (h) => h.dp.setGlobals({ tunSrc6: parseAddr(TUN6).bytes }),
    out: (ip6) =>
      pkt()
        .eth(NODE, LAB_MAC.be11)
        .ipv6(TUN6, 'fd00::11', { nextHeader: 41, hopLimit: 64, flowLabel: label6(C6, tun6tcp.addr, 40010, 80, TCP) })
        .inner(ip6())
        .build(),
    reason: 'XLB_R_FWD_TUNNEL',
  },
  { mode: 'nat', svc: nat6tcp, out: (ip6) => pkt().eth(NODE, LAB_MAC.be12).inner(ip6('fd00::12', 8080)).build(), reason: 'XLB_R_FWD_NAT' },
];

const routingCases: Case[] = [];
for (const type of RH_TYPES) {
  for (const m of rhModes) {
    for (const hbh of [false, true]) {
      for (const left of [0, 1]) {
        const vip = m.svc.addr;
        const ext = (): Ipv6Ext[] => (hbh ? [{ type: 0 }, rh(type, left, vip)] : [rh(type, left, vip)]);
        // the client's SYN from IPv6 on; nat rewrites the destination and port
        const ip6 = (dst = vip, dport = 80): PacketBuilder => pkt().ipv6(C6, dst, { ext: ext() }).tcp(40010, dport, RH_SYN).payload('routed');
        const input = (): Buffer => pkt().eth(CLIENT_MAC, NODE).inner(ip6()).build();
        const be = m.svc.backends[0]!.id;
        routingCases.push(
          left === 0
            ? {
                name: `routing header type ${type}, segments left 0${hbh ? ', behind hop-by-hop' : ''}: ${m.mode} forwards as without it`,
                setup: (h) => {
                  h.service(m.svc);
                  m.setup?.(h);
                },
                input,
                verdict: 'TX',
                output: () => m.out(ip6),
                reason: m.reason,
                vip: { id: m.svc.vipId, packets: 1, newFlows: 1 },
                backend: { id: be, packets: 1, newFlows: 1 },
              }
            : {
                name: `routing header type ${type}, segments left ${left}${hbh ? ', behind hop-by-hop' : ''}: ${m.mode} VIP passes it untouched`,
                setup: (h) => {
                  h.service(m.svc);
                  m.setup?.(h);
                },
                input,
                verdict: 'PASS',
                reason: 'XLB_R_PASS_IPV6_ROUTING',
                vip: { id: m.svc.vipId, packets: 0, newFlows: 0 },
                backend: { id: be, packets: 0, newFlows: 0 },
              },
        );
      }
    }
  }
  for (const left of [0, 1]) {
    routingCases.push({
      name: `routing header type ${type} (segments left ${left}) cut by the IP payload length is dropped`,
      setup: (h) => h.service(dr6tcp),
      // 16 of its 24 (type 4: 40) bytes inside the IP packet, and the frame ends there
      input: () => pkt().eth(CLIENT_MAC, NODE).ipv6(C6, VIP6, { ext: [rh(type, left, VIP6)], payloadLength: 16 }).tcp(40010, 80, RH_SYN).build().subarray(0, 14 + 40 + 16),
      verdict: 'DROP',
      reason: 'XLB_R_DROP_IPV6_EXT',
    });
  }
  routingCases.push({
    name: `routing header type ${type} cut before its segments left is dropped`,
    setup: (h) => h.service(dr6tcp),
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv6(C6, VIP6, { nextHeader: 43, payloadLength: 3 }).payload(Buffer.from([6, 2, type])).build(),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_IPV6_EXT',
  });
}

/** A dr or tunnel flow's ACKs sent twice: recorded, in the flow cache (and, dr, with its next hop). */
function cacheFlow6(h: XdpHarness, s: TestService): void {
  const ack = pkt().eth(CLIENT_MAC, NODE).ipv6(C6, s.addr).tcp(40011, 80, { flags: { ack: true }, seq: 400 }).payload('cached').build();
  for (let i = 0; i < 2; i++) assert.equal(h.run(Buffer.from(ack)).verdict, 'TX');
  h.dp.clearCounters();
}
const ack6rh = (vip: string, left: number): Buffer =>
  pkt().eth(CLIENT_MAC, NODE).ipv6(C6, vip, { ext: [rh(0, left, vip)] }).tcp(40011, 80, { flags: { ack: true }, seq: 400 }).payload('cached').build();

routingCases.push(
  {
    name: 'routing header with segments left on a flow in the flow cache (dr, sent from its entry) is passed',
    setup: (h) => {
      h.service(dr6tcp);
      cacheFlow6(h, dr6tcp);
    },
    input: () => ack6rh(VIP6, 1),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_IPV6_ROUTING',
    vip: { id: dr6tcp.vipId, packets: 0, newFlows: 0 },
  },
  {
    name: 'routing header with segments left on a flow in the flow cache (tunnel) is passed',
    setup: (h) => {
      h.service(tun6tcp);
      h.dp.setGlobals({ tunSrc6: parseAddr(TUN6).bytes });
      cacheFlow6(h, tun6tcp);
    },
    input: () => ack6rh(tun6tcp.addr, 1),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_IPV6_ROUTING',
    vip: { id: tun6tcp.vipId, packets: 0, newFlows: 0 },
  },
  {
    name: 'routing header, segments left 0, on a flow in the flow cache (dr) is sent as without it',
    setup: (h) => {
      h.service(dr6tcp);
      cacheFlow6(h, dr6tcp);
    },
    input: () => ack6rh(VIP6, 0),
    verdict: 'TX',
    output: () => pkt().eth(NODE, LAB_MAC.be10).ipv6(C6, VIP6, { ext: [rh(0, 0, VIP6)] }).tcp(40011, 80, { flags: { ack: true }, seq: 400 }).payload('cached').build(),
    reason: 'XLB_R_FWD_DR',
    vip: { id: dr6tcp.vipId, packets: 1, newFlows: 0 },
  },
  {
    name: 'nat reply with a routing header with segments left is passed untouched',
    setup: (h) => {
      h.service(nat6udp);
      assert.equal(h.run(udp6('fd09::9', 53).build()).verdict, 'TX');
      h.dp.clearCounters();
    },
    input: () => pkt().eth(LAB_MAC.be12, NODE).ipv6('fd00::12', C6, { ext: [rh(0, 1, C6)] }).udp(53, 40003).payload('answer').build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_IPV6_ROUTING',
  },
  {
    name: 'nat reply with a routing header, segments left 0, gets the VIP as source',
    setup: (h) => {
      h.service(nat6udp);
      assert.equal(h.run(udp6('fd09::9', 53).build()).verdict, 'TX');
      h.dp.clearCounters();
    },
    input: () => pkt().eth(LAB_MAC.be12, NODE).ipv6('fd00::12', C6, { ext: [rh(0, 0, C6)] }).udp(53, 40003).payload('answer').build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, CLIENT_MAC).ipv6('fd09::9', C6, { ext: [rh(0, 0, C6)] }).udp(53, 40003).payload('answer').build(),
    reason: 'XLB_R_FWD_NAT_REPLY',
  },
  {
    // decided while parsing, before any lookup: counted so whatever the destination (as fragments are)
    name: 'routing header with segments left to an address that is no VIP is passed under the same reason',
    setup: (h) => h.service(dr6tcp),
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv6(C6, TUN6, { ext: [rh(0, 1, TUN6)] }).tcp(40012, 22, RH_SYN).build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_IPV6_ROUTING',
  },
  {
    name: 'ICMPv6 echo request to a VIP with a routing header with segments left is passed, not answered',
    setup: (h) => h.service(dr6tcp),
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv6(C6, VIP6, { ext: [rh(0, 1, VIP6)] }).icmp6(128, 0, { id: 0x4321, seq: 3 }).payload('ping6').build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_IPV6_ROUTING',
  },
  {
    name: 'ICMPv6 packet-too-big about a VIP flow with a routing header with segments left is passed',
    setup: (h) => h.service(dr6tcp),
    input: () =>
      pkt()
        .eth(LAB_MAC.gw, NODE)
        .ipv6('fd00::fe', VIP6, { ext: [rh(0, 1, VIP6)] })
        .icmp6(2, 0, { mtu: 1280 })
        .inner(pkt().ipv6(VIP6, C6).tcp(80, 40002, { flags: { ack: true } }).payload('x'.repeat(40)))
        .build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_IPV6_ROUTING',
  },
  {
    // the quote's extension headers are not walked: it is not a TCP/UDP packet of a VIP flow
    name: 'ICMPv6 packet-too-big quoting a packet with a routing header is passed',
    setup: (h) => h.service(dr6tcp),
    input: () =>
      pkt()
        .eth(LAB_MAC.gw, NODE)
        .ipv6('fd00::fe', VIP6)
        .icmp6(2, 0, { mtu: 1280 })
        .inner(pkt().ipv6(VIP6, C6, { ext: [rh(0, 1, C6)] }).tcp(80, 40002, { flags: { ack: true } }).payload('x'.repeat(40)))
        .build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_ICMP',
  },
);
cases.push(...routingCases);

// --- BFD echo (RFC 5880 §6.4, RFC 5881 §4; bpf/lib/bfd.h) -------------------
// A peer's echo as FRR 8.4's bfdd sends it: IPv4 from and to its own address
// (ptm_bfd_echo_fp_snd: TOS 0xc0, TTL 255, ports 3785), IPv6 to us
// (ptm_bfd_echo_snd); its payload is FRR's struct bfd_echo_pkt (version 1,
// length 24, My Discriminator 42, the send time). The peer is the client of
// the lab; the node's own addresses are TUN4 / TUN6.

const ECHO = XlbBfdConsts.XLB_BFD_PORT_ECHO;
const PEER4 = C4;
const PEER6 = C6;
const FRR_ECHO = Buffer.from('01180000' + '0000002a' + '0000000000000007' + '000000000001e240', 'hex');
const echo4 = (o: { src?: string; dst?: string; ttl?: number; payload?: Buffer } = {}): PacketBuilder =>
  pkt()
    .eth(CLIENT_MAC, NODE)
    .ipv4(o.src ?? PEER4, o.dst ?? PEER4, { ttl: o.ttl ?? 255, tos: 0xc0, id: 0x1234 })
    .udp(ECHO, ECHO)
    .payload(o.payload ?? FRR_ECHO);
const echo6 = (o: { src?: string; dst?: string; hopLimit?: number; payload?: Buffer } = {}): PacketBuilder =>
  pkt()
    .eth(CLIENT_MAC, NODE)
    .ipv6(o.src ?? PEER6, o.dst ?? TUN6, { hopLimit: o.hopLimit ?? 255 })
    .udp(ECHO, ECHO)
    .payload(o.payload ?? FRR_ECHO);
const reflectPeers = (h: XdpHarness): void => {
  h.dp.setBfdPeer(PEER4, { reflect: true });
  h.dp.setBfdPeer(PEER6, { reflect: true });
};

/** Our own echo's payload (struct xlb_bfd_echo_pkt). */
const OWN_DISCR = 0x01020304;
const OWN_SLOT = 3;
const ownPayload = (o: { magic?: number; discr?: number; slot?: number; seq?: number } = {}): Buffer =>
  encodeXlbBfdEchoPkt({ magic: o.magic ?? XlbBfdConsts.XLB_BFD_ECHO_MAGIC, discr: o.discr ?? OWN_DISCR, slot: o.slot ?? OWN_SLOT, seq: o.seq ?? 77, stamp: new Uint8Array(8).fill(0xab) });
/** Our own IPv4 echo come back: from and to our address, forwarded once by the peer. */
const own4 = (payload = ownPayload()): Buffer => echo4({ src: TUN4, dst: TUN4, ttl: 254, payload }).build();
/** Our own IPv6 echo come back from FRR's reflector: from the peer to us, hop limit 254. */
const own6 = (payload = ownPayload()): Buffer => echo6({ src: PEER6, dst: TUN6, hopLimit: 254, payload }).build();
const ownSlot = (family: 4 | 6) => (h: XdpHarness): void => h.dp.registerEchoSlot(OWN_SLOT, { discr: OWN_DISCR, family });
/** The slot was left as registered: no echo recorded. */
const slotUntouched = (h: XdpHarness): void => assert.deepEqual(h.dp.readEchoSlot(OWN_SLOT), { lastNs: 0n, lastSeq: 0, count: 0n });
/** One echo recorded, seq 77, at a time between the case's start and now (both CLOCK_MONOTONIC). */
let caseStart = 0n;
const slotRecorded = (h: XdpHarness): void => {
  const r = h.dp.readEchoSlot(OWN_SLOT);
  assert.equal(r.count, 1n);
  assert.equal(r.lastSeq, 77);
  assert.ok(r.lastNs >= caseStart && r.lastNs <= process.hrtime.bigint(), `last_ns ${r.lastNs} within the case`);
};

const bfdCases: Case[] = [
  {
    name: 'bfd echo v4 from a reflect peer (FRR: to itself, TTL 255): sent back, MACs swapped, TTL 254, IP checksum updated',
    setup: reflectPeers,
    input: () => echo4().build(),
    verdict: 'TX',
    output: () => Buffer.from([
      '020000000002', '020000000a01', '0800',                 // Ethernet: to the peer, from the node
      '45c00034', '12340000', 'fe11', '95c1',                 // IPv4: TTL 255 -> 254, checksum 94c1 -> 95c1
      '0a000002', '0a000002',                                 //   from and to the peer, as it sent it
      '0ec90ec9', '0020', 'ea8d',                             // UDP 3785 -> 3785, length, checksum unchanged
      '01180000', '0000002a', '0000000000000007', '000000000001e240', // FRR's echo payload, unchanged
    ].join(''), 'hex'),
    reason: 'XLB_R_TX_BFD_ECHO',
    then: () => {
      // the written-out bytes are what the builder makes of the same packet, TTL 254, addressed back
      const built = pkt().eth(NODE, CLIENT_MAC).ipv4(PEER4, PEER4, { ttl: 254, tos: 0xc0, id: 0x1234 }).udp(ECHO, ECHO).payload(FRR_ECHO).build();
      assert.equal(built.toString('hex'), '020000000002020000000a01080045c0003412340000fe1195c10a0000020a0000020ec90ec90020ea8d011800000000002a0000000000000007000000000001e240');
    },
  },
  {
    name: 'bfd echo v6 from a reflect peer (FRR: to us, hop limit 255): sent back to it, hop limit 254',
    setup: reflectPeers,
    input: () => echo6().build(),
    verdict: 'TX',
    output: () => Buffer.from([
      '020000000002', '020000000a01', '86dd',                 // Ethernet: to the peer, from the node
      '60000000', '0020', '11', 'fe',                         // IPv6: payload 32, UDP, hop limit 255 -> 254
      'fd000000000000000000000000000001',                     //   from us
      'fd000000000000000000000000000002',                     //   to the peer
      '0ec90ec9', '0020', '048d',                             // UDP 3785 -> 3785, checksum unchanged (addresses swapped)
      '01180000', '0000002a', '0000000000000007', '000000000001e240',
    ].join(''), 'hex'),
    reason: 'XLB_R_TX_BFD_ECHO',
  },
  {
    name: 'bfd echo v4 addressed to us from a reflect peer: sent back to its source',
    setup: reflectPeers,
    input: () => echo4({ dst: TUN4 }).build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, CLIENT_MAC).ipv4(TUN4, PEER4, { ttl: 254, tos: 0xc0, id: 0x1234 }).udp(ECHO, ECHO).payload(FRR_ECHO).build(),
    reason: 'XLB_R_TX_BFD_ECHO',
  },
  {
    name: 'bfd echo v4 behind a VLAN tag: sent back on it',
    setup: reflectPeers,
    input: () => pkt().eth(CLIENT_MAC, NODE).vlan(7).ipv4(PEER4, PEER4, { ttl: 255 }).udp(ECHO, ECHO).payload(FRR_ECHO).build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, CLIENT_MAC).vlan(7).ipv4(PEER4, PEER4, { ttl: 254 }).udp(ECHO, ECHO).payload(FRR_ECHO).build(),
    reason: 'XLB_R_TX_BFD_ECHO',
  },
  {
    name: 'bfd echo v4 from an address that is no peer: to the kernel, untouched',
    setup: (h) => h.dp.setBfdPeer('10.0.0.3', { reflect: true }),
    input: () => echo4().build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_BFD_ECHO',
  },
  {
    name: 'bfd echo v6 from an address that is no peer: to the kernel, untouched',
    setup: (h) => h.dp.setBfdPeer(PEER4, { reflect: true }),
    input: () => echo6().build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_BFD_ECHO',
  },
  {
    name: 'bfd echo v4 from a peer whose reflection is off: to the kernel',
    setup: (h) => h.dp.setBfdPeer(PEER4, { reflect: false }),
    input: () => echo4().build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_BFD_ECHO',
  },
  {
    name: 'bfd echo v4 from a reflect peer with TTL 254 (forwarded by a router, or reflected once) is dropped',
    setup: reflectPeers,
    input: () => echo4({ ttl: 254 }).build(),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_BFD_ECHO_TTL',
  },
  {
    name: 'bfd echo v4 from a reflect peer with TTL 1 is dropped',
    setup: reflectPeers,
    input: () => echo4({ ttl: 1 }).build(),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_BFD_ECHO_TTL',
  },
  {
    name: 'bfd echo v6 from a reflect peer with hop limit 64 is dropped',
    setup: reflectPeers,
    input: () => echo6({ hopLimit: 64 }).build(),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_BFD_ECHO_TTL',
  },
  // truncated echo: decided before the port is read, as any datagram
  {
    name: 'bfd echo v4 cut inside the UDP header (the IP length says more) is dropped',
    setup: reflectPeers,
    input: () => echo4().build().subarray(0, 14 + 20 + 4),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_BAD_IP',
  },
  {
    name: 'bfd echo v4 whose IP packet holds half a UDP header is dropped',
    setup: reflectPeers,
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv4(PEER4, PEER4, { ttl: 255, totalLength: 24 }).udp(ECHO, ECHO).payload(FRR_ECHO).build().subarray(0, 14 + 24),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_TRUNC_L4',
  },
  {
    name: 'bfd echo v6 cut inside the UDP header is dropped',
    setup: reflectPeers,
    input: () => echo6().build().subarray(0, 14 + 40 + 4),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_BAD_IP',
  },
  {
    name: 'bfd echo v4 cut inside the payload (frame shorter than the IP length) is dropped',
    setup: reflectPeers,
    input: () => echo4().build().subarray(0, 14 + 20 + 8 + 10),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_BAD_IP',
  },
  {
    name: 'bfd echo v6 cut inside the payload is dropped',
    setup: reflectPeers,
    input: () => echo6().build().subarray(0, 14 + 40 + 8 + 10),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_BAD_IP',
  },
  {
    name: 'bfd echo v4 whose UDP length overruns the IP packet (payload cut, IP length fixed up) is dropped',
    setup: reflectPeers,
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv4(PEER4, PEER4, { ttl: 255, totalLength: 20 + 8 + 10 }).udp(ECHO, ECHO).payload(FRR_ECHO).build().subarray(0, 14 + 38),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_BAD_L4',
  },
  {
    name: 'bfd echo v6 whose UDP length overruns the IP packet is dropped',
    setup: reflectPeers,
    input: () => pkt().eth(CLIENT_MAC, NODE).ipv6(PEER6, TUN6, { hopLimit: 255, payloadLength: 8 + 10 }).udp(ECHO, ECHO).payload(FRR_ECHO).build().subarray(0, 14 + 40 + 18),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_BAD_L4',
  },
  // own echo come back
  {
    name: 'own bfd echo v4 back (to and from us, TTL 254): seq and time recorded in its slot, dropped',
    setup: (h) => {
      ownSlot(4)(h);
      caseStart = process.hrtime.bigint();
    },
    input: () => own4(),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_BFD_ECHO_OWN',
    then: slotRecorded,
  },
  {
    name: 'own bfd echo v6 back from a reflect peer (FRR reflects at hop limit 254): recorded, not a TTL drop',
    setup: (h) => {
      reflectPeers(h);
      ownSlot(6)(h);
      caseStart = process.hrtime.bigint();
    },
    input: () => own6(),
    verdict: 'DROP',
    reason: 'XLB_R_DROP_BFD_ECHO_OWN',
    then: slotRecorded,
  },
  {
    name: 'own bfd echo v4 with another magic: not ours, to the kernel, slot untouched',
    setup: ownSlot(4),
    input: () => own4(ownPayload({ magic: 0x786c6246 })),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_BFD_ECHO',
    then: slotUntouched,
  },
  {
    name: 'own bfd echo v6 with another magic: not ours, slot untouched',
    setup: ownSlot(6),
    input: () => own6(ownPayload({ magic: 0 })),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_BFD_ECHO',
    then: slotUntouched,
  },
  {
    name: 'own bfd echo v4 with another discriminator: not ours',
    setup: ownSlot(4),
    input: () => own4(ownPayload({ discr: OWN_DISCR + 1 })),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_BFD_ECHO',
    then: slotUntouched,
  },
  {
    name: 'own bfd echo v4 naming a slot of the other family: not ours',
    setup: ownSlot(6),
    input: () => own4(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_BFD_ECHO',
    then: slotUntouched,
  },
  {
    name: 'own bfd echo v4 naming a free slot (the session unregistered): not ours',
    setup: (h) => {
      ownSlot(4)(h);
      h.dp.unregisterEchoSlot(OWN_SLOT);
    },
    input: () => own4(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_BFD_ECHO',
    then: slotUntouched,
  },
  {
    name: 'own bfd echo v4 naming a slot beyond the map: not ours',
    setup: ownSlot(4),
    input: () => own4(ownPayload({ slot: 1 << 20 })),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_BFD_ECHO',
    then: slotUntouched,
  },
  {
    name: 'own bfd echo v4 whose payload is 4 bytes short: not ours',
    setup: ownSlot(4),
    input: () => own4(ownPayload().subarray(0, 20)),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_BFD_ECHO',
    then: slotUntouched,
  },
  {
    name: 'own bfd echo v4 shaped datagram from a reflect peer at TTL 255 is reflected, not taken for ours (another xlb)',
    setup: (h) => {
      reflectPeers(h);
      ownSlot(4)(h);
    },
    input: () => echo4({ payload: ownPayload({ discr: 0x0a0b0c0d }) }).build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, CLIENT_MAC).ipv4(PEER4, PEER4, { ttl: 254, tos: 0xc0, id: 0x1234 }).udp(ECHO, ECHO).payload(ownPayload({ discr: 0x0a0b0c0d })).build(),
    reason: 'XLB_R_TX_BFD_ECHO',
    then: slotUntouched,
  },
  // the last peer looked up is kept per CPU (bfd_peer_flags): a change to
  // the peers map must reach the next echo all the same
  {
    name: 'bfd echo v4 from a peer whose reflection was turned off after an echo was reflected: to the kernel',
    setup: (h) => {
      reflectPeers(h);
      assert.equal(h.run(echo4().build()).verdict, 'TX');
      h.dp.setBfdPeer(PEER4, { reflect: false });
      h.dp.clearCounters();
    },
    input: () => echo4().build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_BFD_ECHO',
  },
  {
    name: 'bfd echo v6 from a peer removed after an echo was reflected: to the kernel',
    setup: (h) => {
      reflectPeers(h);
      assert.equal(h.run(echo6().build()).verdict, 'TX');
      h.dp.deleteBfdPeer(PEER6);
      h.dp.clearCounters();
    },
    input: () => echo6().build(),
    verdict: 'PASS',
    reason: 'XLB_R_PASS_BFD_ECHO',
  },
  {
    name: 'bfd echo v4 from an address made a reflect peer after its echo went to the kernel: reflected',
    setup: (h) => {
      assert.equal(h.run(echo4().build()).verdict, 'PASS');
      reflectPeers(h);
      h.dp.clearCounters();
    },
    input: () => echo4().build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, CLIENT_MAC).ipv4(PEER4, PEER4, { ttl: 254, tos: 0xc0, id: 0x1234 }).udp(ECHO, ECHO).payload(FRR_ECHO).build(),
    reason: 'XLB_R_TX_BFD_ECHO',
  },
  // the echo port on a VIP is the VIP's
  {
    name: 'udp to a VIP on port 3785 from no peer is the VIP\'s (dr)',
    setup: (h) => h.service({ ...dr4udp, port: ECHO }),
    input: () => udp4(VIP4, ECHO, 40001).build(),
    verdict: 'TX',
    output: () => pkt().eth(NODE, LAB_MAC.be10).ipv4(C4, VIP4, { id: 8 }).udp(40001, ECHO).payload('dns?').build(),
    reason: 'XLB_R_FWD_DR',
    vip: { id: 2, packets: 1, newFlows: 1 },
  },
];
cases.push(...bfdCases);


/** The ring of a service, built as the harness builds it (nothing written to the maps). */
function ringFor(s: TestService, m: number): Uint32Array {
  return buildMaglevRing(s.backends.map((b) => ({ id: b.id, key: `${b.addr}:${b.port ?? 0}`, weight: b.weight ?? 1 })), m);
}

/** The backend the full `multi` ring gives the client's flow from `sport`. */
function multiChoice(h: XdpHarness, sport: number): number {
  const ring = ringFor(multi, h.dp.ringSize);
  const hsh = flowHash({ family: 2, src: parseAddr(C4).bytes, dst: parseAddr(multi.addr).bytes, sport, dport: multi.port, proto: multi.proto });
  return ring[hsh % h.dp.ringSize]!;
}

/** A source port whose flow the 3-backend ring sends away from backend 20. */
function sportMovedBy(h: XdpHarness): number {
  for (let sp = 42000; sp < 43000; sp++) if (multiChoice(h, sp) !== 20) return sp;
  throw new Error('no port found');
}

/** A source port whose flow the 3-backend ring sends to `id`. */
function sportOn(h: XdpHarness, id: number): number {
  for (let sp = 43000; sp < 44000; sp++) if (multiChoice(h, sp) === id) return sp;
  throw new Error('no port found');
}
const sportOn22 = (h: XdpHarness): number => sportOn(h, 22);

describe('xlb_xdp fixtures (BPF_PROG_TEST_RUN)', { skip: !isRoot() && 'needs root (CAP_BPF, netns)' }, () => {
  let h: XdpHarness;
  before(() => {
    h = XdpHarness.open();
  });
  after(() => {
    h?.close();
  });
  beforeEach(() => {
    h.reset();
  });

  it('has at least 40 cases with unique names', () => {
    assert.ok(cases.length >= 40, `${cases.length} cases`);
    assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
  });

  for (const c of cases) {
    it(c.name, () => {
      c.setup?.(h);
      const input = c.input(h);
      const res = h.run(input, c.ingress === 'xc' ? h.lab.ifC : h.lab.ifA);
      assert.equal(res.verdict, c.verdict, `verdict (reasons: ${JSON.stringify(h.reasons())})`);
      const expected = c.output ? c.output(h) : input;
      if (!res.data.equals(expected)) assert.fail(`output differs:\n${hexDiff(res.data, expected)}`);
      assert.deepEqual(h.reasons(), { [c.reason]: 1 }, 'exactly one reason counted');
      if (c.vip) {
        const s = h.dp.vipStats(c.vip.id);
        assert.deepEqual([s.packets, s.newFlows], [BigInt(c.vip.packets), BigInt(c.vip.newFlows)], 'vip counters');
        if (c.vip.packets) assert.equal(s.bytes, BigInt(input.length * c.vip.packets), 'vip bytes');
      }
      if (c.backend) {
        const s = h.dp.backendStats(c.backend.id);
        assert.deepEqual([s.packets, s.newFlows], [BigInt(c.backend.packets), BigInt(c.backend.newFlows)], 'backend counters');
      }
      c.then?.(h);
    });
  }
});

/** True when this process may run on one CPU only (per-CPU state is then deterministic). */
function pinnedToOneCpu(): boolean {
  const m = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  return !!m && /^\d+$/.test(m[1]!);
}

describe('next-hop cache', { skip: !isRoot() && 'needs root (CAP_BPF, netns)' }, () => {
  let h: XdpHarness;
  before(() => {
    // a lifetime no test outlives: what is cached stays cached until flushed
    h = XdpHarness.open({ nhCacheJiffies: 1_000_000 });
  });
  after(() => h?.close());

  it('serves the cached MAC until the entry is flushed, then asks the FIB again', (t) => {
    // the cache is per CPU: on another CPU the entry is cold and refreshed
    if (!pinnedToOneCpu()) return t.skip('needs a process pinned to one CPU (make test-bpf runs taskset -c 0)');
    h.reset();
    h.service(dr4tcp);
    const mac = (b: Buffer): string => b.subarray(0, 6).toString('hex');
    assert.equal(mac(h.run(tcp4(VIP4, 80).build()).data), '020000000010');
    assert.equal(h.dp.eventCounters().XLB_EV_NH_REFRESH, 1n);
    execFileSync('ip', ['-n', h.lab.ns, 'neigh', 'replace', '10.0.0.10', 'lladdr', '02:00:00:00:00:99', 'dev', 'xa', 'nud', 'permanent']);
    try {
      assert.equal(mac(h.run(tcp4(VIP4, 80).build()).data), '020000000010', 'cached');
      assert.equal(h.dp.eventCounters().XLB_EV_NH_REFRESH, 1n);
      h.dp.flushNextHop(1);
      assert.equal(mac(h.run(tcp4(VIP4, 80).build()).data), '020000000099', 'after the flush');
      assert.equal(h.dp.eventCounters().XLB_EV_NH_REFRESH, 2n);
    } finally {
      execFileSync('ip', ['-n', h.lab.ns, 'neigh', 'replace', '10.0.0.10', 'lladdr', LAB_MAC.be10, 'dev', 'xa', 'nud', 'permanent']);
    }
  });

  it('a larger packet than the cached path MTU check covered asks the FIB again', () => {
    h.reset();
    h.service(tun4tcp);
    h.dp.setGlobals({ tunSrc4: 0x0a000001 });
    assert.equal(h.run(tcp4('10.9.0.5', 80).build()).verdict, 'TX');
    assert.equal(h.run(tcp4('10.9.0.5', 80, 40000, 'x'.repeat(1500 - 40)).build()).verdict, 'DROP');
    assert.deepEqual(h.reasons(), { XLB_R_FWD_TUNNEL: 1, XLB_R_DROP_TOO_BIG: 1 });
  });
});

describe('flow cache', { skip: !isRoot() && 'needs root (CAP_BPF, netns)' }, () => {
  const mac = (b: Buffer): string => b.subarray(0, 6).toString('hex');
  const BE11 = LAB_MAC.be11.replaceAll(':', '');
  /** Forget the connection-table record of the multi service's flow from `sport`. */
  const dropRecord = (h: XdpHarness, sport: number): void => {
    const key = Buffer.alloc(16);
    key.set(parseAddr(C4).bytes.subarray(0, 4), 0);
    key.set(parseAddr(multi.addr).bytes.subarray(0, 4), 4);
    key.writeUInt16BE(sport, 8);
    key.writeUInt16BE(multi.port, 10);
    key[12] = TCP;
    h.dp.maps.xlb_conns4.delete(key);
  };

  // the cache is per CPU: on another CPU a flow's entry is cold
  const oneCpu = !pinnedToOneCpu() && 'needs a process pinned to one CPU (make test-bpf runs taskset -c 0)';

  describe('on (the default size)', { skip: oneCpu }, () => {
    let h: XdpHarness;
    before(() => {
      h = XdpHarness.open({ nhCacheJiffies: 1_000_000 });
    });
    after(() => h?.close());
    beforeEach(() => {
      h.reset();
      h.service(multi);
    });

    it('serves a recorded flow without the connection table: one fill, one record', () => {
      const sport = sportOn(h, 21);
      assert.equal(mac(h.run(tcp4('10.9.0.13', 443, sport).build()).data), BE11);
      dropRecord(h, sport);
      for (let i = 0; i < 3; i++) assert.equal(mac(h.run(tcp4('10.9.0.13', 443, sport).build()).data), BE11);
      const ev = h.dp.eventCounters();
      assert.equal(ev.XLB_EV_CONN_NEW, 1n, 'the lost record was not needed');
      assert.equal(ev.XLB_EV_FC_FILL, 1n);
      assert.deepEqual(h.reasons(), { XLB_R_FWD_DR: 4 });
      assert.equal(h.dp.backendStats(21).packets, 4n, 'hits are counted as any packet');
    });

    // An untagged IPv4 packet without options takes fast_ipv4(); one with IP
    // options the general way (fc_fast() in handle_ip()): both must send from the entry.
    for (const [way, options] of [['fast_ipv4', undefined], ['the general way (IP options)', Buffer.from([1, 1, 1, 0])]] as const) {
      it(`sends a dr flow from its entry alone until the dataplane writes anything it depends on: ${way}`, () => {
        const sport = sportOn(h, 21);
        const send = (): { verdict: Verdict; data: Buffer } =>
          h.run(pkt().eth(CLIENT_MAC, NODE).ipv4(C4, '10.9.0.13', { id: 7, options }).tcp(sport, 443, { flags: { ack: true }, seq: 100 }).payload('x').build());
        const key21 = Buffer.alloc(4);
        key21.writeUInt32LE(21);
        assert.equal(mac(send().data), BE11);
        // behind the dataplane's back: the record, the backend and its next hop are gone
        dropRecord(h, sport);
        h.dp.maps.xlb_backends.update(key21, Buffer.alloc(h.dp.maps.xlb_backends.valueSize));
        h.dp.maps.xlb_nh_cache.update(key21, Buffer.alloc(h.dp.maps.xlb_nh_cache.valueBufferSize));
        assert.equal(mac(send().data), BE11, 'sent with the next hop in the entry');
        // any write through the dataplane (here a next-hop flush) has the entry checked again
        h.dp.flushNextHop(21);
        assert.equal(send().verdict, 'DROP');
        assert.deepEqual(h.reasons(), { XLB_R_FWD_DR: 2, XLB_R_DROP_NO_BACKEND: 1 });
        assert.equal(h.dp.backendStats(21).packets, 2n, 'a packet sent from the entry is counted as any');
        assert.equal(h.dp.vipStats(multi.vipId).packets, 2n);
        assert.equal(h.dp.eventCounters().XLB_EV_NH_REFRESH, 1n, 'the next hop was looked up once');
      });
    }

    it("a VIP's mode change or removal has its flows' entries checked again", () => {
      const sport = sportOn(h, 21);
      const send = (): { verdict: Verdict; data: Buffer } => h.run(tcp4('10.9.0.13', 443, sport).build());
      const vip = { addr: multi.addr, port: multi.port, proto: TCP, vipId: multi.vipId, ring: multi.vipId };
      // another VIP on the address keeps its bit in the address filter set
      h.service({ ...dr4tcp, vipId: 14, addr: multi.addr, backends: [{ id: 30, addr: '10.0.0.10' }] });
      send();
      assert.equal(mac(send().data), BE11, 'sent from the entry');
      h.dp.putVip({ ...vip, mode: XlbMode.XLB_MODE_TUNNEL });
      send();
      h.dp.putVip({ ...vip, mode: XlbMode.XLB_MODE_DR });
      send();
      assert.equal(mac(send().data), BE11, 'sent from the entry again');
      h.dp.deleteVip(multi.addr, multi.port, TCP);
      assert.equal(send().verdict, 'PASS');
      assert.deepEqual(h.reasons(), { XLB_R_FWD_DR: 4, XLB_R_FWD_TUNNEL: 1, XLB_R_PASS_NO_VIP: 1 });
    });

    it('checks an entry as a record: a backend marked down is not served from it', () => {
      const sport = sportOn(h, 21);
      assert.equal(h.run(tcp4('10.9.0.13', 443, sport).build()).verdict, 'TX');
      // down but still in the ring: the ring's choice is dropped (as a record's would be)
      h.service({ ...multi, backends: multi.backends.map((b) => (b.id === 21 ? { ...b, flags: 0 } : b)) });
      assert.equal(h.run(tcp4('10.9.0.13', 443, sport).build()).verdict, 'DROP');
      assert.deepEqual(h.reasons(), { XLB_R_FWD_DR: 1, XLB_R_DROP_NO_BACKEND: 1 });
      assert.equal(h.dp.backendStats(21).packets, 1n);
    });

    it('a SYN is never served from it, and refills it with its new choice', () => {
      const sport = sportOn(h, 21);
      assert.equal(h.run(tcp4('10.9.0.13', 443, sport).build()).verdict, 'TX');
      // 21 drains: a SYN on the same 5-tuple is a new connection, scheduled on the new ring
      h.service({ ...multi, backends: multi.backends.map((b) => (b.id === 21 ? { ...b, weight: 0 } : b)) });
      const syn = pkt().eth(CLIENT_MAC, NODE).ipv4(C4, '10.9.0.13', { id: 7 }).tcp(sport, 443, { flags: { syn: true }, seq: 99 }).build();
      const first = mac(h.run(syn).data);
      assert.notEqual(first, BE11);
      assert.equal(mac(h.run(tcp4('10.9.0.13', 443, sport).build()).data), first, 'the ACK follows the SYN');
      assert.equal(h.dp.eventCounters().XLB_EV_FC_FILL, 2n);
    });

    it('flushFlowCache empties it: the next packet goes to the connection table', () => {
      const sport = sportOn(h, 20);
      assert.equal(h.run(tcp4('10.9.0.13', 443, sport).build()).verdict, 'TX');
      h.dp.flushFlowCache();
      assert.equal(h.run(tcp4('10.9.0.13', 443, sport).build()).verdict, 'TX');
      const ev = h.dp.eventCounters();
      assert.equal(ev.XLB_EV_CONN_NEW, 1n, 'found in the table');
      assert.equal(ev.XLB_EV_FC_FILL, 2n);
    });
  });

  it('entries expire with the next-hop lifetime', { skip: oneCpu }, async () => {
    const h = XdpHarness.open({ nhCacheJiffies: 1 });
    try {
      h.service(multi);
      const sport = sportOn(h, 22);
      assert.equal(h.run(tcp4('10.9.0.13', 443, sport).build()).verdict, 'TX');
      await new Promise((r) => setTimeout(r, 20)); // 1 jiffy is 1..10 ms
      assert.equal(h.run(tcp4('10.9.0.13', 443, sport).build()).verdict, 'TX');
      const ev = h.dp.eventCounters();
      assert.equal(ev.XLB_EV_CONN_NEW, 1n);
      assert.equal(ev.XLB_EV_FC_FILL, 2n, 'refilled from the table after expiry');
    } finally {
      h.close();
    }
  });

  it('flowCache: 0 turns it off: every packet looks the table up', { skip: oneCpu }, () => {
    const h = XdpHarness.open({ flowCache: 0 });
    try {
      h.service(multi);
      const sport = sportOn(h, 20);
      assert.equal(h.run(tcp4('10.9.0.13', 443, sport).build()).verdict, 'TX');
      dropRecord(h, sport);
      assert.equal(h.run(tcp4('10.9.0.13', 443, sport).build()).verdict, 'TX');
      const ev = h.dp.eventCounters();
      assert.equal(ev.XLB_EV_CONN_NEW, 2n, 'recorded again');
      assert.equal(ev.XLB_EV_FC_FILL, 0n);
    } finally {
      h.close();
    }
  });

  // 2 entries per CPU: flows of every mode keep taking each other's entry
  for (const flowCache of [undefined, 2]) {
    it(`decides every packet as the connection table alone does (cache ${flowCache ?? 'default'} vs off, same packets and changes)`, { skip: oneCpu }, () => {
      const on = XdpHarness.open({ nhCacheJiffies: 1_000_000, flowCache });
      let off: XdpHarness | undefined;
      try {
        off = XdpHarness.open({ nhCacheJiffies: 1_000_000, flowCache: 0 });
        // both labs are built alike: the same ifindexes and neighbours
        assert.equal(on.lab.ifA, off.lab.ifA);
        const services = [multi, tun4tcp, tun6udp, nat4tcp, nat6udp];
        const both = (f: (h: XdpHarness) => void): void => [on, off!].forEach(f);
        both((h) => services.forEach((sv) => h.service(sv)));
        const rnd = mulberry32(7);
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
        let drained = false;
        let down = false;
        for (let i = 0; i < 3000; i++) {
          const r = rnd();
          if (r < 0.02) {
            drained = !drained;
            both((h) => h.service({ ...multi, backends: multi.backends.map((b) => (b.id === 21 && drained ? { ...b, weight: 0 } : b)) }));
          } else if (r < 0.04) {
            down = !down;
            both((h) => h.service({ ...multi, backends: multi.backends.map((b) => (b.id === 22 && down ? { ...b, flags: 0 } : b)) }));
          }
          const sport = 41000 + Math.floor(rnd() * 24);
          const syn = rnd() < 0.1;
          const kind = pick(['multi', 'tun4', 'tun6', 'nat4', 'nat6'] as const);
          const tcpTo = (dst: string, dport: number): Buffer =>
            pkt().eth(CLIENT_MAC, NODE).ipv4(C4, dst, { id: 7 }).tcp(sport, dport, { flags: syn ? { syn: true } : { ack: true }, seq: 100 }).payload('x').build();
          const frame = {
            multi: () => tcpTo('10.9.0.13', 443),
            tun4: () => tcpTo('10.9.0.5', 80),
            tun6: () => udp6('fd09::5', 53, sport).build(),
            nat4: () => tcpTo('10.9.0.9', 80),
            nat6: () => udp6('fd09::9', 53, sport).build(),
          }[kind]();
          const a = on.run(Buffer.from(frame));
          const b = off.run(Buffer.from(frame));
          assert.equal(a.verdict, b.verdict, `packet ${i} (${kind} ${sport}${syn ? ' SYN' : ''})`);
          assert.ok(a.data.equals(b.data), `packet ${i} (${kind} ${sport}): output differs`);
        }
        assert.deepEqual(on.reasons(), off.reasons());
        for (const id of [20, 21, 22]) assert.deepEqual(on.dp.backendStats(id), off.dp.backendStats(id), `backend ${id}`);
        assert.ok((on.dp.eventCounters().XLB_EV_FC_FILL ?? 0n) > 0n, 'the cache was used');
        assert.equal(off.dp.eventCounters().XLB_EV_FC_FILL, 0n);
      } finally {
        off?.close();
        on.close();
      }
    });
  }

  // fast_ipv4() takes packets of cached flows before any general parsing:
  // every packet it must not take, it must leave to the general way
  it('decides odd and malformed packets of cached flows as the connection table alone does', { skip: oneCpu }, () => {
    const on = XdpHarness.open({ nhCacheJiffies: 1_000_000 });
    let off: XdpHarness | undefined;
    try {
      off = XdpHarness.open({ nhCacheJiffies: 1_000_000, flowCache: 0 });
      assert.equal(on.lab.ifA, off.lab.ifA);
      for (const h of [on, off]) {
        h.service(multi);
        h.service(dr4udp);
      }
      type Ip = Parameters<PacketBuilder['ipv4']>[2];
      type Tcp = Parameters<PacketBuilder['tcp']>[2];
      type Udp = Parameters<PacketBuilder['udp']>[2];
      const ack: Tcp = { flags: { ack: true }, seq: 100 };
      const tcpP = (o: { ip?: Ip; tcp?: Tcp; payload?: string; vlan?: number } = {}): Buffer => {
        let b = pkt().eth(CLIENT_MAC, NODE);
        if (o.vlan) b = b.vlan(o.vlan);
        return b.ipv4(C4, '10.9.0.13', { id: 7, ...o.ip }).tcp(41000, 443, { ...ack, ...o.tcp }).payload(o.payload ?? 'xlb').build();
      };
      const udpP = (o: { ip?: Ip; udp?: Udp; payload?: string } = {}): Buffer =>
        pkt().eth(CLIENT_MAC, NODE).ipv4(C4, VIP4, { id: 7, ...o.ip }).udp(41001, 53, o.udp).payload(o.payload ?? 'dns?').build();
      const withByte = (b: Buffer, at: number, v: number): Buffer => {
        const c = Buffer.from(b);
        c[at] = v;
        return c;
      };
      const tcpOk = tcpP();
      const udpOk = udpP();
      const odd: [string, Buffer][] = [
        ['tcp', tcpOk],
        ['udp', udpOk],
        ['tcp, IP length past the frame', tcpP({ ip: { totalLength: 20 + 20 + 3 + 1 } })],
        ['tcp, IP length short of the TCP header', tcpP({ ip: { totalLength: 20 + 19 } })],
        ['tcp, IP length below the IP header', tcpP({ ip: { totalLength: 19 } })],
        ['tcp, data offset 4', tcpP({ tcp: { dataOffset: 4 } })],
        ['tcp, data offset past the IP length', tcpP({ tcp: { dataOffset: 15 } })],
        ['tcp, SYN', tcpP({ tcp: { flags: { syn: true } } })],
        ['tcp, SYN+ACK', tcpP({ tcp: { flags: { syn: true, ack: true } } })],
        ['tcp, more fragments', tcpP({ ip: { mf: true } })],
        ['tcp, fragment offset', tcpP({ ip: { fragOffset: 1 } })],
        ['tcp, DF', tcpP({ ip: { df: true } })],
        ['tcp, IP options', tcpP({ ip: { options: Buffer.from([1, 1, 1, 0]) } })],
        ['tcp, IHL 4', tcpP({ ip: { ihl: 4 } })],
        ['tcp, version 6 under the IPv4 type', withByte(tcpOk, 14, 0x65)],
        ['tcp, VLAN tagged', tcpP({ vlan: 7 })],
        ['tcp, Ethernet padding', Buffer.concat([tcpOk, Buffer.alloc(9)])],
        ['tcp, 1500-byte IP packet', tcpP({ payload: 'p'.repeat(1500 - 40) })],
        ['udp, length 7', udpP({ udp: { length: 7 } })],
        ['udp, length past the IP length', udpP({ udp: { length: 8 + 4 + 1 } })],
        ['udp, IP length short of the UDP header', udpP({ ip: { totalLength: 20 + 7 } })],
        ['udp, IP length past the frame', udpP({ ip: { totalLength: 20 + 8 + 4 + 1 } })],
        ['udp, no checksum', udpP({ udp: { checksum: 'none' } })],
        ['udp, protocol 132 (SCTP)', udpP({ ip: { proto: 132 } })],
      ];
      // BPF_PROG_TEST_RUN takes no frame shorter than an Ethernet header
      for (let n = 14; n <= tcpOk.length; n++) odd.push([`tcp cut at ${n}`, tcpOk.subarray(0, n)]);
      for (let n = 14; n <= udpOk.length; n++) odd.push([`udp cut at ${n}`, udpOk.subarray(0, n)]);
      const rnd = mulberry32(11);
      for (let i = 0; i < 1500; i++) {
        const m = mutate(rnd() < 0.5 ? tcpOk : udpOk, rnd);
        odd.push([`mutation ${i}`, m.length < 14 ? Buffer.concat([m, Buffer.alloc(14 - m.length)]) : m]);
      }
      const check = (what: string, frame: Buffer): void => {
        const a = on.run(Buffer.from(frame));
        const b = off!.run(Buffer.from(frame));
        assert.equal(a.verdict, b.verdict, what);
        assert.ok(a.data.equals(b.data), `${what}: output differs`);
      };
      // each odd packet between two good ones: the flows' entries stay filled
      for (const [what, frame] of odd) {
        check('tcp before', tcpOk);
        check('udp before', udpOk);
        check(what, frame);
      }
      assert.deepEqual(on.reasons(), off.reasons());
      for (const id of [2, 20, 21, 22]) assert.deepEqual(on.dp.backendStats(id), off.dp.backendStats(id), `backend ${id}`);
      for (const id of [multi.vipId, dr4udp.vipId]) assert.deepEqual(on.dp.vipStats(id), off.dp.vipStats(id), `VIP ${id}`);
      assert.ok((on.dp.eventCounters().XLB_EV_FC_FILL ?? 0n) > 0n, 'the cache was used');
    } finally {
      off?.close();
      on.close();
    }
  });

  it('the loader refuses a size that is not a power of 2', () => {
    assert.throws(() => XdpHarness.open({ flowCache: 1000 }), /flowCache 1000: a power of 2/);
  });
});

describe('pinned maps', { skip: !isRoot() && 'needs root (CAP_BPF, bpffs)' }, () => {
  it('a load pins every map but the flow cache, takes them over the next time, and removes retired pins', () => {
    const dir = `/sys/fs/bpf/xlb-test-pins-${process.pid}`;
    const opts = { maxVips: 4, maxBackends: 8, maxConns: 1024, ringSize: 251, pinDir: dir };
    try {
      const first = XdpDataplane.load(opts);
      try {
        assert.deepEqual(first.reusedMaps, []);
        // a pin an earlier version left: the event counters before xlb_stats_event_v2
        first.maps.xlb_stats_reason_v2.pin(`${dir}/xlb_stats_event`);
      } finally {
        first.close();
      }
      assert.ok(existsSync(`${dir}/xlb_stats_event`));
      const second = XdpDataplane.load(opts);
      try {
        assert.ok(second.reusedMaps.includes('xlb_stats_event_v2') && second.reusedMaps.includes('xlb_conns4'));
      } finally {
        second.close();
      }
      assert.ok(!existsSync(`${dir}/xlb_stats_event`), 'the retired pin is gone');
      assert.ok(!existsSync(`${dir}/xlb_flow_cache`), 'the flow cache is never pinned');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pinned maps of an earlier version', { skip: !isRoot() && 'needs root (CAP_BPF, bpffs)' }, () => {
  it('a load over the pins of a version with fewer reasons takes its state over and replaces the reason counters', () => {
    const dir = `/sys/fs/bpf/xlb-test-pins-up-${process.pid}`;
    const opts = { maxVips: 4, maxBackends: 8, maxConns: 1024, ringSize: 251, pinDir: dir };
    // the reason counters of this object, whatever their map is called
    const reasonMap = (dp: XdpDataplane): string => Object.keys(dp.maps).find((n) => n.startsWith('xlb_stats_reason'))!;
    try {
      const first = XdpDataplane.load(opts);
      const name = reasonMap(first);
      first.close();
      // what the version before XLB_R_PASS_IPV6_ROUTING pinned: xlb_stats_reason, one slot per reason it had
      rmSync(`${dir}/${name}`);
      const prev = new (native().BpfObject)(defaultObjectPath());
      try {
        prev.setMapMaxEntries(name, XlbReason.XLB_R_PASS_IPV6_ROUTING);
        prev.load();
        prev.map(name).pin(`${dir}/xlb_stats_reason`);
      } finally {
        prev.close();
      }
      // before xlb_stats_reason_v2 this load failed: "pinned map ... does not fit this program"
      const second = XdpDataplane.load(opts);
      const now = reasonMap(second);
      try {
        assert.ok(second.reusedMaps.includes('xlb_conns4') && second.reusedMaps.includes('xlb_rings'), 'forwarding state taken over');
        assert.ok(!second.reusedMaps.includes(now), 'reason counters made anew');
        assert.ok(second.maps[now as keyof typeof second.maps].maxEntries > XlbReason.XLB_R_PASS_IPV6_ROUTING);
        assert.equal(second.reasonCounters().XLB_R_PASS_IPV6_ROUTING?.packets, 0n);
      } finally {
        second.close();
      }
      assert.ok(!existsSync(`${dir}/xlb_stats_reason`), 'the old reason counters are unpinned');
      assert.ok(existsSync(`${dir}/${now}`), 'the new ones are pinned');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('BFD echo state over a restart', { skip: !isRoot() && 'needs root (CAP_BPF, bpffs)' }, () => {
  it('reflect peers and own-echo slots are pinned and taken over; a worker maps the slots from the pin', () => {
    const dir = `/sys/fs/bpf/xlb-test-pins-bfd-${process.pid}`;
    const opts = { maxVips: 4, maxBackends: 8, maxConns: 1024, ringSize: 251, pinDir: dir, bfdEchoSlots: 8 };
    try {
      const first = XdpDataplane.load(opts);
      try {
        first.setBfdPeer(PEER4, { reflect: true });
        first.setBfdPeer(PEER6, { reflect: false });
        first.registerEchoSlot(5, { discr: 0xfeedf00d, family: 6 });
        assert.throws(() => first.registerEchoSlot(8, { discr: 1, family: 4 }), /echo slot 8 out of range 0..7/);
        assert.throws(() => first.registerEchoSlot(1, { discr: 0, family: 4 }), /discriminator 0/);
      } finally {
        first.close();
      }
      const second = XdpDataplane.load(opts);
      try {
        assert.ok(second.reusedMaps.includes('xlb_bfd_peers') && second.reusedMaps.includes('xlb_bfd_echo'));
        const peers = second.bfdPeers().sort((a, b) => a.addr.localeCompare(b.addr));
        assert.deepEqual(peers, [
          { addr: '10.0.0.2', reflect: true },
          { addr: 'fd00::2', reflect: false },
        ]);
        const slots = BfdEchoSlots.fromPin(`${dir}/xlb_bfd_echo`);
        assert.equal(slots.size, 8);
        assert.deepEqual(slots.read(5), { lastNs: 0n, lastSeq: 0, count: 0n });
        const raw = decodeXlbBfdEchoSlot(second.maps.xlb_bfd_echo.lookup(Buffer.from([5, 0, 0, 0]))!);
        assert.deepEqual([raw.discr, raw.family], [0xfeedf00d, 10], 'the registration survived');
        assert.ok(second.deleteBfdPeer(PEER4));
        assert.ok(!second.deleteBfdPeer(PEER4));
        // a load with another size does not fit the pin
        second.close();
        assert.throws(() => XdpDataplane.load({ ...opts, bfdEchoSlots: 16 }), /pinned map .*xlb_bfd_echo does not fit/);
      } finally {
        second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('new-flow rate budget (conn_rate_limit)', { skip: !isRoot() && 'needs root (CAP_BPF, netns)' }, () => {
  let h: XdpHarness;
  before(() => {
    h = XdpHarness.open({ connRateLimit: 2 });
  });
  after(() => h?.close());

  it('records flows within the budget, forwards the rest by the ring without recording them', () => {
    h.reset();
    h.service(multi);
    const sports = [46001, 46002, 46003, 46004];
    for (const sp of sports) assert.equal(h.run(tcp4('10.9.0.13', 443, sp).build()).verdict, 'TX');
    const ev = h.dp.eventCounters();
    assert.equal(ev.XLB_EV_CONN_NEW, 2n);
    assert.equal(ev.XLB_EV_CONN_FLOOD_SKIP, 2n);
    assert.equal(h.dp.vipStats(13).newFlows, 4n, 'every one was a new flow');
    let recorded = 0;
    for (let k = h.dp.maps.xlb_conns4.nextKey(null); k; k = h.dp.maps.xlb_conns4.nextKey(k)) recorded++;
    assert.equal(recorded, 2);
  });

  it('nat flows are recorded whatever the budget (their replies need it)', () => {
    h.reset();
    h.service(nat4tcp);
    for (const sp of [47001, 47002, 47003, 47004]) assert.equal(h.run(tcp4('10.9.0.9', 80, sp).build()).verdict, 'TX');
    assert.equal(h.dp.eventCounters().XLB_EV_CONN_NEW, 4n);
    assert.equal(h.dp.eventCounters().XLB_EV_CONN_FLOOD_SKIP, 0n);
  });
});
