// Tests for src/io/netlink-client.ts and the values it reports
// (src/net/link-addr.ts), without a kernel: a fake transport
// plays the kernel (acks, errors, dumps over several datagrams, interrupted
// dumps, notifications, overruns), so the runner's sequencing, error
// mapping and events are checked exactly. test/bpf/netlink.test.ts runs the
// same client against the real kernel.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { SystemError } from '../../../src/errors.js';
import type { NetlinkDatagram } from '../../../src/native/binding.js';
import { addressMessage, netlinkError, toAddressInfo, toLinkInfo } from '../../../src/net/link-addr.js';
import { decodeNsIdMsg, encodeNsIdMsg, IFLA_LINK_NETNSID, RTM_NSID } from '../../../src/net/netns-id.js';
import { decodeRouteMsg, encodeRouteMsg, RTM_ROUTE, type RouteMsg } from '../../../src/net/route-get.js';
import {
  NetlinkClient,
  type AddressEvent,
  type LinkEvent,
  type NetlinkClientOptions,
  type NetlinkTransport,
} from '../../../src/io/netlink-client.js';
import {
  decodeIfAddrMsg,
  decodeNlMsgs,
  encodeIfAddrMsg,
  encodeIfInfoMsg,
  encodeNlMsg,
  encodeNlMsgErr,
  IFA_F,
  IFF,
  NLM_F,
  NLMSG,
  nlMsgErrFlags,
  RTM,
  RTMGRP,
  type IfAddrMsg,
  type IfInfoMsg,
  type NlMsg,
  type NlMsgErr,
} from '../../../src/net/rtnetlink.js';

const KERNEL_PID = 4242;

/** A transport that records what is sent and lets the test answer as the kernel. */
class FakeTransport extends EventEmitter implements NetlinkTransport {
  readonly pid = KERNEL_PID;
  readonly sent: NlMsg[] = [];
  readonly options: [number, number, number | Buffer][] = [];
  started = false;
  closed = false;
  /** Called for each sent request; answer with `this.reply(...)`. */
  onRequest: ((m: NlMsg) => void) | undefined;

  constructor(readonly groups: number) {
    super();
  }

  send(data: Buffer): number {
    for (const m of decodeNlMsgs(data)) {
      this.sent.push(m);
      queueMicrotask(() => this.onRequest?.(m));
    }
    return data.length;
  }
  setOption(level: number, name: number, value: number | Buffer): void {
    this.options.push([level, name, value]);
  }
  start(): void {
    this.started = true;
  }
  stop(): void {
    this.started = false;
  }
  close(): void {
    this.closed = true;
  }
  /** Delivers one datagram of `msgs` from port id `from` (0: the kernel). */
  reply(msgs: NlMsg[], from = 0): void {
    const dg: NetlinkDatagram = { data: Buffer.concat(msgs.map((m) => encodeNlMsg(m))), pid: from, groups: this.groups };
    this.emit('message', dg);
  }
}

/** A client on fake transports; `req` answers requests, `ev` plays notifications. */
function setup(opts: Omit<NetlinkClientOptions, 'transport'> = {}): { nl: NetlinkClient; req: FakeTransport; ev: () => FakeTransport } {
  const made: FakeTransport[] = [];
  const nl = new NetlinkClient({
    ...opts,
    transport: ({ groups }) => {
      const t = new FakeTransport(groups);
      made.push(t);
      return t;
    },
  });
  nl.start();
  return { nl, req: made[0]!, ev: () => made[1]! };
}

function ack(req: NlMsg, error = 0, extAck?: NlMsgErr['extAck']): NlMsg {
  const e: NlMsgErr = { error, request: { len: 16 + req.payload.length, type: req.type, flags: req.flags, seq: req.seq, pid: req.pid } };
  if (extAck !== undefined) e.extAck = extAck;
  return { type: NLMSG.ERROR, flags: nlMsgErrFlags(e), seq: req.seq, pid: KERNEL_PID, payload: encodeNlMsgErr(e) };
}

function done(req: NlMsg, error = 0): NlMsg {
  const p = Buffer.alloc(4);
  p.writeInt32LE(error, 0);
  return { type: NLMSG.DONE, flags: NLM_F.MULTI, seq: req.seq, pid: KERNEL_PID, payload: p };
}

const LINK_UP: IfInfoMsg = { family: 0, type: 1, index: 7, flags: IFF.UP | IFF.RUNNING | IFF.LOWER_UP | IFF.BROADCAST, change: 0, attrs: { ifname: 'eth0', operstate: 6, address: '02:00:00:fb:00:01', mtu: 1500 } };
const ADDR_V4: IfAddrMsg = { family: 2, prefixLength: 24, flags: 0x80, scope: 0, index: 7, attrs: { address: '192.0.2.10', local: '192.0.2.10', label: 'eth0:vip', flags: 0x80 } };
const ADDR_V6: IfAddrMsg = { family: 10, prefixLength: 64, flags: 0x82, scope: 0, index: 8, attrs: { address: '2001:db8::10', flags: 0x82 } };

describe('NetlinkClient (fake kernel)', () => {
  test('start opens a request socket (no groups, EXT_ACK + CAP_ACK) and an event socket (the three groups)', () => {
    const { nl, req, ev } = setup();
    assert.equal(req.groups, 0);
    assert.deepEqual(req.options, [
      [270, 11, 1],
      [270, 10, 1],
    ]);
    assert.equal(ev().groups, RTMGRP.LINK | RTMGRP.IPV4_IFADDR | RTMGRP.IPV6_IFADDR);
    assert.ok(ev().started, 'events are polled from start()');
    assert.ok(!req.started, 'the idle request socket does not keep the loop alive');
    nl.start(); // idempotent
    nl.stop();
    nl.stop();
    assert.ok(req.closed && ev().closed);
    assert.equal(nl.started, false);
  });

  test('addAddress: the RTM_NEWADDR sent, resolved by its ACK only', async () => {
    const { nl, req } = setup();
    req.onRequest = (m) => {
      req.reply([ack({ ...m, seq: m.seq + 1 })]); // another request's ack: ignored
      req.reply([ack(m)], 99); // not from the kernel: ignored
      req.reply([ack(m)]);
    };
    await nl.addAddress({ ifindex: 7, address: '192.0.2.10', prefixLength: 24, label: 'eth0:vip' });
    assert.equal(req.sent.length, 1);
    const m = req.sent[0]!;
    assert.equal(m.type, RTM.NEWADDR);
    assert.equal(m.flags, NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL);
    assert.deepEqual(decodeIfAddrMsg(m.payload).value, { family: 2, prefixLength: 24, flags: 0, scope: 0, index: 7, attrs: { address: '192.0.2.10', local: '192.0.2.10', label: 'eth0:vip' } });
    assert.ok(!req.started, 'idle again');
    nl.stop();
  });

  test('errors reject with a SystemError named after the errno, with the extended-ack message', async () => {
    const { nl, req } = setup();
    req.onRequest = (m) => req.reply([ack(m, -17, { message: 'ipv4: Address already assigned' })]);
    await assert.rejects(nl.addAddress({ ifindex: 7, address: '192.0.2.10', prefixLength: 24 }), (e: unknown) => {
      assert.ok(e instanceof SystemError);
      assert.equal(e.code, 'EEXIST');
      assert.equal(e.errno, -17);
      assert.equal(e.syscall, 'RTM_NEWADDR');
      assert.equal(e.message, 'RTM_NEWADDR failed: file already exists (192.0.2.10/24 on ifindex 7; ipv4: Address already assigned)');
      return true;
    });
    req.onRequest = (m) => req.reply([ack(m, -99)]);
    await assert.rejects(nl.deleteAddress({ ifindex: 7, address: '2001:db8::10', prefixLength: 64 }), {
      name: 'SystemError',
      code: 'EADDRNOTAVAIL',
      message: 'RTM_DELADDR failed: address not available (2001:db8::10/64 on ifindex 7)',
    });
    const del = req.sent[1]!;
    assert.equal(del.type, RTM.DELADDR);
    assert.equal(del.flags, NLM_F.REQUEST | NLM_F.ACK);
    nl.stop();
  });

  test('netlinkError: names and fallbacks', () => {
    assert.equal(netlinkError(-19, RTM.GETLINK, 'link x').code, 'ENODEV');
    const odd = netlinkError(-4095, RTM.NEWADDR, '');
    assert.equal(odd.code, 'XLB_ERR_SYSTEM');
    assert.equal(odd.message, 'RTM_NEWADDR failed: errno 4095');
  });

  test('requests go one at a time, in order', async () => {
    const { nl, req } = setup();
    const pending: NlMsg[] = [];
    req.onRequest = (m) => pending.push(m);
    const order: string[] = [];
    const a = nl.addAddress({ ifindex: 7, address: '10.0.0.1', prefixLength: 32 }).then(() => order.push('a'));
    const b = nl.addAddress({ ifindex: 7, address: '10.0.0.2', prefixLength: 32 }).then(() => order.push('b'));
    await new Promise((r) => setImmediate(r));
    assert.equal(req.sent.length, 1, 'the second waits for the first');
    req.reply([ack(pending[0]!)]);
    await new Promise((r) => setImmediate(r));
    assert.equal(req.sent.length, 2);
    assert.notEqual(req.sent[0]!.seq, req.sent[1]!.seq);
    req.reply([ack(pending[1]!)]);
    await Promise.all([a, b]);
    assert.deepEqual(order, ['a', 'b']);
    nl.stop();
  });

  test('dumps: several datagrams until NLMSG_DONE; filters applied here', async () => {
    const { nl, req } = setup();
    req.onRequest = (m) => {
      const multi = (type: number, payload: Buffer): NlMsg => ({ type, flags: NLM_F.MULTI, seq: m.seq, pid: KERNEL_PID, payload });
      if (m.type === RTM.GETADDR) {
        req.reply([multi(RTM.NEWADDR, encodeIfAddrMsg(ADDR_V4))]);
        req.reply([multi(RTM.NEWADDR, encodeIfAddrMsg(ADDR_V6)), multi(RTM.NEWADDR, encodeIfAddrMsg({ ...ADDR_V4, family: 17, attrs: {} })), done(m)]);
      } else {
        req.reply([multi(RTM.NEWLINK, encodeIfInfoMsg(LINK_UP)), done(m)]);
      }
    };
    const all = await nl.addresses();
    assert.deepEqual(all, [
      { family: 4, ifindex: 7, address: '192.0.2.10', prefixLength: 24, flags: 0x80, scope: 0, label: 'eth0:vip' },
      { family: 6, ifindex: 8, address: '2001:db8::10', prefixLength: 64, flags: 0x82, scope: 0 },
    ]);
    assert.equal(req.sent[0]!.flags, NLM_F.REQUEST | NLM_F.ACK | NLM_F.DUMP);
    assert.deepEqual((await nl.addresses({ ifindex: 8 })).map((a) => a.address), ['2001:db8::10']);
    assert.deepEqual((await nl.addresses({ family: 4 })).map((a) => a.address), ['192.0.2.10']);
    assert.equal(decodeIfAddrMsg(req.sent[2]!.payload).value.family, 2, 'the family goes to the kernel too');
    const links = await nl.links();
    assert.deepEqual(links, [
      { ifindex: 7, name: 'eth0', flags: LINK_UP.flags, adminUp: true, running: true, lowerUp: true, up: true, type: 1, operState: 'UP', mac: '02:00:00:fb:00:01', mtu: 1500 },
    ]);
    nl.stop();
  });

  test('an interrupted dump (NLM_F_DUMP_INTR) is restarted with a new seq; a failed dump rejects', async () => {
    const traces: string[] = [];
    const { nl, req } = setup({ log: { debug: (_o: object, msg?: string) => void traces.push(msg ?? '') } as never });
    let n = 0;
    req.onRequest = (m) => {
      n++;
      const flags = NLM_F.MULTI | (n === 1 ? NLM_F.DUMP_INTR : 0);
      req.reply([{ type: RTM.NEWLINK, flags, seq: m.seq, pid: KERNEL_PID, payload: encodeIfInfoMsg({ ...LINK_UP, index: n }) }, done(m)]);
    };
    const links = await nl.links();
    assert.equal(req.sent.length, 2);
    assert.notEqual(req.sent[0]!.seq, req.sent[1]!.seq);
    assert.deepEqual(links.map((l) => l.ifindex), [2], 'only the complete dump counts');
    assert.deepEqual(traces.slice(0, 3), ['netlink request', 'netlink dump interrupted (NLM_F_DUMP_INTR), restarting', 'netlink request']);
    req.onRequest = (m) => req.reply([done(m, -16)]);
    await assert.rejects(nl.links(), { code: 'EBUSY', syscall: 'RTM_GETLINK' });
    req.onRequest = (m) => req.reply([{ type: RTM.NEWLINK, flags: NLM_F.MULTI | NLM_F.DUMP_INTR, seq: m.seq, pid: KERNEL_PID, payload: encodeIfInfoMsg(LINK_UP) }]);
    await assert.rejects(nl.links(), { code: 'EINTR' });
    nl.stop();
  });

  test('link(): by index or by name (IFLA_IFNAME); a reply without link is ENODEV', async () => {
    const { nl, req } = setup();
    req.onRequest = (m) => req.reply([{ type: RTM.NEWLINK, flags: 0, seq: m.seq, pid: KERNEL_PID, payload: encodeIfInfoMsg(LINK_UP) }, ack(m)]);
    assert.equal((await nl.link('eth0')).ifindex, 7);
    assert.equal((await nl.link(7)).name, 'eth0');
    const byName = req.sent[0]!;
    assert.equal(byName.flags, NLM_F.REQUEST | NLM_F.ACK);
    assert.ok(byName.payload.includes(Buffer.from('eth0\0')));
    req.onRequest = (m) => req.reply([ack(m)]);
    await assert.rejects(nl.link(9), { code: 'ENODEV' });
    nl.stop();
  });

  test('netnsId(): RTM_GETNSID with NETNSA_FD; the id of RTM_NEWNSID, null for -1 (none assigned)', async () => {
    const { nl, req } = setup();
    let answer = 3;
    req.onRequest = (m) => req.reply([{ type: RTM_NSID.NEWNSID, flags: 0, seq: m.seq, pid: KERNEL_PID, payload: encodeNsIdMsg({ family: 0, nsid: answer }) }, ack(m)]);
    assert.equal(await nl.netnsId(17), 3);
    const sent = req.sent[0]!;
    assert.equal(sent.type, RTM_NSID.GETNSID);
    assert.equal(sent.flags, NLM_F.REQUEST | NLM_F.ACK);
    assert.deepEqual(decodeNsIdMsg(sent.payload).value, { family: 0, fd: 17 });
    answer = -1;
    assert.equal(await nl.netnsId(17), null);
    req.onRequest = (m) => req.reply([ack(m, -22)]);
    await assert.rejects(nl.netnsId(17), { code: 'EINVAL', syscall: 'RTM_GETNSID' });
    await assert.rejects(nl.netnsId(-1), RangeError);
    nl.stop();
  });

  test('route(): RTM_GETROUTE for one address (no dump); the answer\'s RTA_OIF and RTA_GATEWAY', async () => {
    const { nl, req } = setup();
    const answer: RouteMsg = { family: 2, dstLen: 32, table: 254, protocol: 0, scope: 0, type: 1, flags: 0x200, dst: '10.1.2.3', oif: 5, gateway: '10.1.0.1' };
    req.onRequest = (m) => req.reply([{ type: RTM_ROUTE.NEWROUTE, flags: 0, seq: m.seq, pid: KERNEL_PID, payload: encodeRouteMsg(answer) }, ack(m)]);
    assert.deepEqual(await nl.route('10.1.2.3'), answer);
    const sent = req.sent[0]!;
    assert.equal(sent.type, RTM_ROUTE.GETROUTE);
    assert.equal(sent.flags, NLM_F.REQUEST | NLM_F.ACK);
    assert.deepEqual(decodeRouteMsg(sent.payload).value, { family: 2, dstLen: 32, table: 0, protocol: 0, scope: 0, type: 0, flags: 0, dst: '10.1.2.3' });
    req.onRequest = (m) => req.reply([ack(m, -101)]);
    await assert.rejects(nl.route('2001:db8::1'), { code: 'ENETUNREACH', syscall: 'RTM_GETROUTE' });
    await assert.rejects(nl.route('nope'), TypeError);
    nl.stop();
  });

  test('toLinkInfo(): IFLA_LINK_NETNSID gives linkNetnsid (a veth whose peer is in another namespace)', () => {
    const v: IfInfoMsg = { ...LINK_UP, attrs: { ...LINK_UP.attrs, link: 2, unknown: [{ type: IFLA_LINK_NETNSID, data: Buffer.from([5, 0, 0, 0]) }] } };
    const info = toLinkInfo(v);
    assert.equal(info.link, 2);
    assert.equal(info.linkNetnsid, 5);
    assert.equal(toLinkInfo(LINK_UP).linkNetnsid, undefined);
  });

  test('timeout, stop and not-started reject; an undecodable reply fails the request', async () => {
    const { nl, req } = setup({ timeoutMs: 20 });
    req.onRequest = () => undefined; // the reply is lost
    await assert.rejects(nl.links(), { code: 'ETIMEDOUT', errno: -110 });
    req.onRequest = (m) => req.emit('message', { data: encodeNlMsg(m).subarray(0, 12), pid: 0, groups: 0 });
    await assert.rejects(nl.links(), { code: 'XLB_ERR_CODEC_TRUNCATED' });
    req.onRequest = () => undefined;
    const p = nl.links();
    nl.stop();
    await assert.rejects(p, /client stopped/);
    await assert.rejects(nl.links(), /client not started/);
  });

  test('ENOBUFS on the request socket fails the request in flight', async () => {
    const { nl, req } = setup();
    req.onRequest = () => req.emit('error', new SystemError('ENOBUFS', 'recvmsg failed: no buffer space available', { errno: -105, syscall: 'recvmsg' }));
    await assert.rejects(nl.addAddress({ ifindex: 1, address: '10.0.0.1', prefixLength: 8 }), { code: 'ENOBUFS' });
    nl.stop();
  });

  test("events: 'link' and 'address' from the kernel's notifications only; ENOBUFS as 'error'", () => {
    const { nl, ev } = setup();
    const links: LinkEvent[] = [];
    const addrs: AddressEvent[] = [];
    const errors: Error[] = [];
    nl.on('link', (e) => links.push(e));
    nl.on('address', (e) => addrs.push(e));
    nl.on('error', (e) => errors.push(e));
    const note = (type: number, payload: Buffer): NlMsg => ({ type, flags: 0, seq: 0, pid: 0, payload });
    const down: IfInfoMsg = { ...LINK_UP, flags: IFF.BROADCAST, attrs: { ifname: 'eth0', operstate: 2 } };
    ev().reply([note(RTM.NEWLINK, encodeIfInfoMsg(down)), note(RTM.NEWLINK, encodeIfInfoMsg(LINK_UP))]);
    ev().reply([note(RTM.DELLINK, encodeIfInfoMsg(down))]);
    ev().reply([note(RTM.NEWADDR, encodeIfAddrMsg(ADDR_V4)), note(RTM.DELADDR, encodeIfAddrMsg(ADDR_V6))]);
    ev().reply([note(RTM.NEWADDR, encodeIfAddrMsg(ADDR_V4))], 1234); // a user process, not the kernel
    ev().reply([note(24 /* RTM_NEWROUTE */, Buffer.alloc(12))]);
    ev().reply([note(RTM.DELLINK, encodeIfInfoMsg({ ...down, family: 7 /* AF_BRIDGE: left a bridge */ }))]);
    assert.deepEqual(
      links.map((e) => [e.action, e.link.name, e.link.up, e.link.adminUp, e.link.operState]),
      [
        ['new', 'eth0', false, false, 'DOWN'],
        ['new', 'eth0', true, true, 'UP'],
        ['del', 'eth0', false, false, 'DOWN'],
      ],
    );
    assert.deepEqual(
      addrs.map((e) => [e.action, e.address.address, e.address.prefixLength, e.address.label]),
      [
        ['new', '192.0.2.10', 24, 'eth0:vip'],
        ['del', '2001:db8::10', 64, undefined],
      ],
    );
    ev().emit('error', new SystemError('ENOBUFS', 'recvmsg failed: no buffer space available', { errno: -105, syscall: 'recvmsg' }));
    ev().emit('message', { data: Buffer.from([1, 2, 3]), pid: 0, groups: 1 });
    assert.deepEqual(errors.map((e) => (e as { code?: string }).code), ['ENOBUFS', 'XLB_ERR_CODEC_TRUNCATED']);
    assert.equal(links.length, 3, 'a failed parse emits no event');
    nl.stop();
  });

  test('events off: one socket only', () => {
    const made: number[] = [];
    const nl = new NetlinkClient({ events: false, transport: ({ groups }) => (made.push(groups), new FakeTransport(groups)) });
    nl.start();
    assert.deepEqual(made, [0]);
    nl.stop();
  });
});

describe('address specs (H-25: ranges checked in TS)', () => {
  test('the messages addAddress and deleteAddress send', () => {
    assert.deepEqual(addressMessage({ ifindex: 3, address: 'fd00::1', prefixLength: 128, nodad: true, noPrefixRoute: true }, true), {
      family: 10,
      prefixLength: 128,
      flags: IFA_F.NODAD,
      scope: 0,
      index: 3,
      attrs: { address: 'fd00::1', local: 'fd00::1', flags: IFA_F.NODAD | IFA_F.NOPREFIXROUTE },
    });
    assert.deepEqual(addressMessage({ ifindex: 3, address: '10.1.1.1', prefixLength: 32, broadcast: '10.1.1.255', scope: 253 }, true).attrs, {
      address: '10.1.1.1',
      local: '10.1.1.1',
      broadcast: '10.1.1.255',
    });
    // Delete ignores the add-only fields.
    assert.deepEqual(addressMessage({ ifindex: 3, address: '10.1.1.1', prefixLength: 32 }, false).attrs, { address: '10.1.1.1', local: '10.1.1.1' });
  });

  test('bad specs throw before anything is sent', async () => {
    const { nl, req } = setup();
    const bad: [object, RegExp][] = [
      [{ ifindex: 0, address: '10.0.0.1', prefixLength: 8 }, /ifindex must be an integer in \[1, 2147483647\]/],
      [{ ifindex: 1, address: '10.0.0.1/8', prefixLength: 8 }, /must be an IPv4 or IPv6 address/],
      [{ ifindex: 1, address: '10.0.0.1', prefixLength: 33 }, /prefixLength must be an integer in \[0, 32\]/],
      [{ ifindex: 1, address: 'fd00::1', prefixLength: 129 }, /prefixLength must be an integer in \[0, 128\]/],
      [{ ifindex: 1, address: 'fd00::1', prefixLength: 64, label: 'eth0:v6' }, /label is for IPv4 addresses only/],
      [{ ifindex: 1, address: '10.0.0.1', prefixLength: 8, label: 'a-label-of-16-ch' }, /label must be 1\.\.15 bytes/],
      [{ ifindex: 1, address: '10.0.0.1', prefixLength: 8, nodad: true }, /nodad is for IPv6 addresses only/],
      [{ ifindex: 1, address: '10.0.0.1', prefixLength: 8, broadcast: 'fd00::1' }, /must be an IPv4 or IPv6|broadcast is for IPv4/],
      [{ ifindex: 1, address: '10.0.0.1', prefixLength: 8, scope: 256 }, /scope must be an integer/],
    ];
    for (const [spec, re] of bad) {
      await assert.rejects(nl.addAddress(spec as never), re, JSON.stringify(spec));
    }
    await assert.rejects(nl.link(''), RangeError);
    await assert.rejects(nl.addresses({ ifindex: -1 }), RangeError);
    assert.equal(req.sent.length, 0);
    assert.throws(() => new NetlinkClient({ timeoutMs: 0 }), RangeError);
    nl.stop();
  });

  test('toLinkInfo / toAddressInfo', () => {
    const l = toLinkInfo({ family: 0, type: 1, index: 5, flags: IFF.UP | IFF.LOWER_UP, change: 0, attrs: { master: 0 } });
    assert.deepEqual(l, { ifindex: 5, name: '', flags: IFF.UP | IFF.LOWER_UP, adminUp: true, running: false, lowerUp: true, up: false, type: 1 });
    assert.equal(toLinkInfo({ ...LINK_UP, attrs: { link: 3, master: 9 } }).link, 3);
    assert.equal(toAddressInfo({ ...ADDR_V4, attrs: {} }), null);
    assert.deepEqual(toAddressInfo({ ...ADDR_V4, attrs: { local: '10.0.0.1', address: '10.0.0.2' } }), { family: 4, ifindex: 7, address: '10.0.0.1', prefixLength: 24, flags: 0x80, scope: 0, peer: '10.0.0.2' });
  });
});
