/**
 * Fuzz run of the XDP program: N random and mutated packets (default
 * 1,000,000) through BPF_PROG_TEST_RUN against the real object, in a FibLab
 * namespace with a service of every mode configured. Checks:
 *  - every packet lands in exactly one reason counter (checked per batch:
 *    the reason deltas sum to the batch size, and per verdict class they
 *    equal the verdicts returned; XLB_R_NONE stays 0);
 *  - nothing but a packet for a VIP (or a NAT reply, an echo to a VIP, a PTB
 *    about a VIP flow, a reflect peer's BFD echo at TTL 255) is ever
 *    transmitted or redirected, and never ABORTED; nor an IPv6 packet whose
 *    routing header has segments left;
 *  - a reflected BFD echo is its input sent back: Ethernet and IP addresses
 *    swapped, TTL / hop limit 254, UDP header and payload unchanged;
 *  - what is forwarded is well-formed: lengths and checksums right whenever
 *    they were right on input, and the inner packet intact (byte-equal to the
 *    input's IP packet for dr and tunnel).
 * Usage: node dist/test/fuzz/xdp-fuzz.js [--packets N] [--seed S]. Exit 0 = pass.
 * Root only (skips with exit 0 and a message otherwise).
 */
import { parseArgs } from 'node:util';
import { mulberry32, mutate, parsePacket, pkt, randomPacket, routingHeader, validatePacket, type Ipv6Ext } from '../support/packet.js';
import { isRoot, LAB_MAC } from '../support/fib-lab.js';
import { XdpHarness, TCP, UDP, type TestService, type Verdict } from '../support/xdp-harness.js';
import { XlbBfdConsts, XlbReason, encodeXlbBfdEchoPkt } from '../../src/dataplane/xdp/abi.gen.js';
import { parseAddr } from '../../src/net/addr.js';

const SERVICES: TestService[] = [
  { vipId: 1, addr: '10.9.0.1', port: 80, proto: TCP, mode: 'dr', backends: [{ id: 1, addr: '10.0.0.10' }, { id: 2, addr: '10.0.0.11' }] },
  { vipId: 2, addr: 'fd09::1', port: 53, proto: UDP, mode: 'dr', backends: [{ id: 3, addr: 'fd00::10' }] },
  { vipId: 3, addr: '10.9.0.5', port: 80, proto: TCP, mode: 'tunnel', backends: [{ id: 4, addr: '10.0.0.11' }, { id: 5, addr: '10.1.0.10' }] },
  { vipId: 4, addr: 'fd09::5', port: 443, proto: TCP, mode: 'tunnel', backends: [{ id: 6, addr: 'fd00::11' }, { id: 7, addr: 'fd01::10' }] },
  { vipId: 5, addr: '10.9.0.9', port: 53, proto: UDP, mode: 'nat', backends: [{ id: 8, addr: '10.0.0.12', port: 5353 }] },
  { vipId: 6, addr: 'fd09::9', port: 80, proto: TCP, mode: 'nat', backends: [{ id: 9, addr: 'fd00::12', port: 8080 }] },
  { vipId: 7, addr: '10.9.0.7', port: 0, proto: UDP, mode: 'dr', backends: [{ id: 10, addr: '10.0.0.10' }] },
];
const BACKEND_ADDRS = new Set(SERVICES.flatMap((s) => s.backends.map((b) => b.addr)));
const VIP_ADDRS = new Set(SERVICES.map((s) => s.addr));

/** BFD: reflect peers (not among the clients of vipPacket()), and one own-echo slot. */
const ECHO = XlbBfdConsts.XLB_BFD_PORT_ECHO;
const BFD_PEER4 = '10.0.5.1';
const BFD_PEER6 = 'fd00::5:1';
const BFD_PEERS = new Set([BFD_PEER4, BFD_PEER6].map(addrHex));
const OWN_SLOT = 2;
const OWN_DISCR = 0x5eed;

function addrHex(a: string): string {
  return Buffer.from(parseAddr(a).bytes).toString('hex');
}

/**
 * An echo-port datagram: a reflect peer's echo (mostly at TTL 255), our own
 * echo come back (mostly with the right magic, slot and discriminator), or a
 * stranger's; both families, sometimes tagged.
 */
function echoPacket(rng: () => number): Buffer {
  const v6 = rng() < 0.5;
  const peer = v6 ? BFD_PEER6 : BFD_PEER4;
  const own = v6 ? 'fd00::1' : '10.0.0.1';
  const r = rng();
  const rnd = (n: number): number => Math.floor(rng() * n);
  let src: string, dst: string, ttl: number, payload: Buffer;
  if (r < 0.4) {
    src = peer;
    dst = rng() < 0.5 ? peer : own;
    ttl = rng() < 0.8 ? 255 : rnd(256);
    payload = Buffer.alloc(rnd(40));
    for (let i = 0; i < payload.length; i++) payload[i] = rnd(256);
  } else if (r < 0.75) {
    src = rng() < 0.5 ? own : peer;
    dst = own;
    ttl = rng() < 0.8 ? 254 : rnd(256);
    const ok = (p: number): boolean => rng() < p;
    payload = encodeXlbBfdEchoPkt({
      magic: ok(0.8) ? XlbBfdConsts.XLB_BFD_ECHO_MAGIC : rnd(2 ** 32),
      discr: ok(0.8) ? OWN_DISCR : rnd(2 ** 32),
      slot: ok(0.8) ? OWN_SLOT + (v6 ? 1 : 0) : rnd(300),
      seq: rnd(2 ** 32),
      stamp: new Uint8Array(8),
    });
    if (rng() < 0.1) payload = payload.subarray(0, rnd(24));
  } else {
    src = v6 ? `fd00::${(2 + rnd(200)).toString(16)}` : `10.0.0.${2 + rnd(250)}`;
    dst = rng() < 0.5 ? src : own;
    ttl = rng() < 0.5 ? 255 : rnd(256);
    payload = Buffer.alloc(24);
  }
  let b = pkt().eth(LAB_MAC.client, LAB_MAC.xa);
  if (rng() < 0.1) b = b.vlan(1 + rnd(4000));
  b = v6 ? b.ipv6(src, dst, { hopLimit: ttl }) : b.ipv4(src, dst, { ttl, tos: 0xc0, id: rnd(65536) });
  return b.udp(rng() < 0.7 ? ECHO : 1024 + rnd(60000), ECHO).payload(payload).build();
}

/** The service a (dst, dport, proto) reaches, as the program decides. */
function serviceFor(dst: string, dport: number, proto: number): TestService | undefined {
  return SERVICES.find((s) => s.addr === dst && s.proto === proto && s.port === dport) ?? SERVICES.find((s) => s.addr === dst && s.proto === proto && s.port === 0);
}

/** Sometimes a routing header of type 0, 2, 3 or 4 (segments left 0 half the time), sometimes behind a hop-by-hop header. */
function routing(rng: () => number): Ipv6Ext[] {
  if (rng() >= 0.15) return [];
  const rh = routingHeader([0, 2, 3, 4][Math.floor(rng() * 4)]!, rng() < 0.5 ? 0 : 1 + Math.floor(rng() * 3), ['fd0f::99']);
  return rng() < 0.3 ? [{ type: 0 }, rh] : [rh];
}

/** A well-formed packet to a random service from a random client. */
function vipPacket(rng: () => number): Buffer {
  const s = SERVICES[Math.floor(rng() * SERVICES.length)]!;
  const v6 = s.addr.includes(':');
  const client = v6 ? `fd00::${(2 + Math.floor(rng() * 200)).toString(16)}` : `10.0.${Math.floor(rng() * 4)}.${2 + Math.floor(rng() * 250)}`;
  const sport = 1024 + Math.floor(rng() * 60000);
  const dport = s.port || 1 + Math.floor(rng() * 65000);
  const payload = Buffer.alloc(Math.floor(rng() * 200));
  for (let i = 0; i < payload.length; i++) payload[i] = Math.floor(rng() * 256);
  let b = pkt().eth(LAB_MAC.client, LAB_MAC.xa);
  if (rng() < 0.1) b = b.vlan(1 + Math.floor(rng() * 4000));
  b = v6 ? b.ipv6(client, s.addr, { ext: routing(rng) }) : b.ipv4(client, s.addr, { id: Math.floor(rng() * 65536), df: rng() < 0.5 });
  b = s.proto === TCP ? b.tcp(sport, dport, { flags: { syn: rng() < 0.3, ack: true }, seq: Math.floor(rng() * 2 ** 31) }) : b.udp(sport, dport);
  return b.payload(payload).build();
}

/** An echo request, a NAT reply from a backend, or a frag-needed / packet-too-big about a VIP flow. */
function specialPacket(rng: () => number): Buffer {
  const r = rng();
  if (r < 0.3) {
    return pkt().eth(LAB_MAC.client, LAB_MAC.xa).ipv4('10.0.0.2', '10.9.0.1').icmp(8, 0, { id: 1, seq: Math.floor(rng() * 65536) }).payload('ping').build();
  }
  if (r < 0.6) return pkt().eth(LAB_MAC.be12, LAB_MAC.xa).ipv4('10.0.0.12', '10.0.0.2').udp(5353, 1024 + Math.floor(rng() * 60000)).payload('answer').build();
  // an error about a packet the VIP sent to a client (every mode, both families)
  const s = SERVICES[Math.floor(rng() * SERVICES.length)]!;
  const v6 = s.addr.includes(':');
  const client = v6 ? `fd00::${(2 + Math.floor(rng() * 200)).toString(16)}` : `10.0.0.${2 + Math.floor(rng() * 250)}`;
  const vport = s.port || 1 + Math.floor(rng() * 65000);
  const cport = 1024 + Math.floor(rng() * 60000);
  const quoted = v6 ? pkt().ipv6(s.addr, client) : pkt().ipv4(s.addr, client, { df: true });
  const q4 = (s.proto === TCP ? quoted.tcp(vport, cport, { flags: { ack: true } }) : quoted.udp(vport, cport)).payload(Buffer.alloc(Math.floor(rng() * 100)));
  const full = q4.build().length;
  const cut = rng() < 0.5 ? q4.truncate(Math.min(full, (v6 ? 40 : 20) + 8 + Math.floor(rng() * 40))) : q4;
  const outer = pkt().eth(LAB_MAC.gw, LAB_MAC.xa);
  return (v6 ? outer.ipv6('fd00::fe', s.addr).icmp6(2, 0, { mtu: 1280 }) : outer.ipv4('10.0.0.254', s.addr).icmp(3, 4, { mtu: 1400 })).inner(cut).build();
}

const CHECKSUM = /checksum/i;

interface Failure {
  what: string;
  input: string;
  output?: string;
}

function main(): number {
  const { values } = parseArgs({ options: { packets: { type: 'string', default: '1000000' }, seed: { type: 'string', default: '1' } } });
  const total = Number(values.packets);
  const seed = Number(values.seed);
  if (!isRoot()) {
    process.stdout.write('xdp-fuzz: skipped, needs root (CAP_BPF, netns)\n');
    return 0;
  }
  const h = XdpHarness.open({ maxConns: 1 << 16, maxVips: 16, maxBackends: 64 });
  const failures: Failure[] = [];
  const fail = (what: string, input: Buffer, output?: Buffer): void => {
    if (failures.length < 20) failures.push({ what, input: input.toString('hex'), output: output?.toString('hex') });
  };
  const t0 = Date.now();
  let forwarded = 0;
  let finalReasons: Record<string, { packets: bigint }> = {};
  try {
    for (const s of SERVICES) h.service(s);
    h.dp.setGlobals({ tunSrc4: 0x0a000001, tunSrc6: parseAddr('fd00::1').bytes, wildcardVips: 1 });
    h.dp.setBfdPeer(BFD_PEER4, { reflect: true });
    h.dp.setBfdPeer(BFD_PEER6, { reflect: true });
    h.dp.registerEchoSlot(OWN_SLOT, { discr: OWN_DISCR, family: 4 });
    h.dp.registerEchoSlot(OWN_SLOT + 1, { discr: OWN_DISCR, family: 6 });
    const rng = mulberry32(seed);
    const BATCH = 2000;
    const verdictClass = (r: string): Verdict | 'FWD' => (r.startsWith('XLB_R_PASS') ? 'PASS' : r.startsWith('XLB_R_DROP') ? 'DROP' : 'FWD');
    let prev = h.dp.reasonCounters();
    for (let done = 0; done < total; ) {
      const n = Math.min(BATCH, total - done);
      const seen: Record<string, number> = { PASS: 0, DROP: 0, FWD: 0 };
      for (let i = 0; i < n; i++) {
        const r = rng();
        let input =
          r < 0.27
            ? vipPacket(rng)
            : r < 0.54
              ? mutate(vipPacket(rng), rng)
              : r < 0.6
                ? specialPacket(rng)
                : r < 0.66
                  ? mutate(specialPacket(rng), rng)
                  : r < 0.7
                    ? echoPacket(rng)
                    : r < 0.74
                      ? mutate(echoPacket(rng), rng)
                      : r < 0.86
                        ? mutate(randomPacket(rng), rng)
                        : randomPacket(rng);
        // BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet header
        if (input.length < 14) input = Buffer.concat([input, Buffer.alloc(14 - input.length)]);
        const res = h.run(input);
        if (res.verdict === 'ABORTED') fail('XDP_ABORTED', input);
        seen[res.verdict === 'TX' || res.verdict === 'REDIRECT' ? 'FWD' : res.verdict] = (seen[res.verdict === 'TX' || res.verdict === 'REDIRECT' ? 'FWD' : res.verdict] ?? 0) + 1;
        if (res.verdict === 'TX' || res.verdict === 'REDIRECT') {
          forwarded++;
          checkForwarded(input, res.data, fail);
        }
      }
      const now = h.dp.reasonCounters();
      const delta: Record<string, number> = { PASS: 0, DROP: 0, FWD: 0 };
      let sum = 0;
      for (const [k, v] of Object.entries(now)) {
        const d = Number(v.packets - (prev[k]?.packets ?? 0n));
        if (!d) continue;
        if (k === 'XLB_R_NONE' || !(k in XlbReason)) fail(`packets counted in ${k}`, Buffer.alloc(0));
        sum += d;
        delta[verdictClass(k)] = (delta[verdictClass(k)] ?? 0) + d;
      }
      if (sum !== n) fail(`batch at ${done}: ${n} packets, reason counters moved by ${sum}`, Buffer.alloc(0));
      for (const c of ['PASS', 'DROP', 'FWD']) if (delta[c] !== seen[c]) fail(`batch at ${done}: ${seen[c]} ${c} verdicts, ${delta[c]} in ${c} reasons`, Buffer.alloc(0));
      prev = now;
      done += n;
      finalReasons = now;
      if (failures.length >= 20) break;
    }
  } finally {
    h.close();
  }
  const secs = (Date.now() - t0) / 1000;
  process.stdout.write(`xdp-fuzz: ${total} packets (seed ${seed}), ${forwarded} forwarded, ${failures.length} failures, ${secs.toFixed(1)} s\n`);
  const seen = Object.entries(finalReasons).filter(([, v]) => v.packets > 0n);
  process.stdout.write(`  reasons: ${seen.map(([k, v]) => `${k.replace(/^XLB_R_/, '').toLowerCase()} ${v.packets}`).join(', ')}\n`);
  for (const f of failures) process.stdout.write(`  FAIL ${f.what}\n    in:  ${f.input}\n${f.output ? `    out: ${f.output}\n` : ''}`);
  return failures.length ? 1 : 0;
}

/** Problems of a frame, with the nesting prefix dropped (a tunnel adds one level). */
function problems(b: Buffer): string[] {
  return validatePacket(b, { allowTruncatedQuote: true, allowTrailer: true }).map((p) => p.replace(/^(inner\.)+/, ''));
}

/**
 * The checks on one transmitted or redirected packet: the input was one the
 * data path may forward (for a VIP, complete headers, lengths inside the
 * frame, not a fragment), the output has no problem the input did not have,
 * and its checksums are right whenever the input's were.
 */
function checkForwarded(input: Buffer, output: Buffer, fail: (what: string, i: Buffer, o?: Buffer) => void): void {
  const pin = parsePacket(input);
  const ip = pin.ip;
  const l4 = pin.l4;
  if (!ip || !l4) return fail('forwarded a packet without IP/L4 headers', input, output);
  if (ip.version === 4 && (ip.mf || ip.fragOffset)) return fail('forwarded a fragment', input, output);
  if (ip.version === 6 && ip.fragment) return fail('forwarded an IPv6 fragment', input, output);
  if (ip.version === 6 && ip.routing && ip.routing.segmentsLeft > 0) return fail('forwarded an IPv6 packet whose routing header has segments left', input, output);
  const ipLen = ip.version === 4 ? ip.totalLength : 40 + ip.payloadLength;
  if (ip.offset + ipLen > input.length) return fail('forwarded a packet whose IP length exceeds the frame', input, output);
  if (l4.truncated) return fail('forwarded a packet with a truncated L4 header', input, output);
  if (l4.proto === 'udp' && (l4.length < 8 || l4.offset + l4.length > ip.offset + ipLen)) return fail('forwarded a UDP datagram longer than its IP packet', input, output);
  // what it was for
  let kind: 'vip' | 'echo' | 'reply' | 'ptb' | 'bfd' | null = null;
  const ttl = ip.version === 4 ? ip.ttl : ip.hopLimit;
  if (l4.proto === 'udp' && l4.dport === ECHO && BFD_PEERS.has(addrHex(ip.src)) && ttl === 255) kind = 'bfd';
  else if ((l4.proto === 'tcp' || l4.proto === 'udp') && serviceFor(ip.dst, l4.dport, l4.proto === 'tcp' ? TCP : UDP)) kind = 'vip';
  else if ((l4.proto === 'icmp' || l4.proto === 'icmp6') && VIP_ADDRS.has(ip.dst)) kind = (l4.proto === 'icmp' && l4.type === 8) || (l4.proto === 'icmp6' && l4.type === 128) ? 'echo' : 'ptb';
  else if ((l4.proto === 'tcp' || l4.proto === 'udp') && BACKEND_ADDRS.has(ip.src)) kind = 'reply';
  if (!kind) return fail('forwarded a packet that is not for a VIP', input, output);
  if (kind === 'bfd') return checkReflected(input, output, fail);
  const inP = problems(input);
  const inChecksumBad = inP.some((p) => CHECKSUM.test(p));
  const inSet = new Set(inP.filter((p) => !CHECKSUM.test(p)));
  const added = problems(output).filter((p) => (CHECKSUM.test(p) ? !inChecksumBad : !inSet.has(p)));
  if (added.length) return fail(`forwarding broke the packet: ${added.join('; ')}`, input, output);
  // the inner packet intact: dr keeps the IP packet, tunnel carries it whole
  const pout = parsePacket(output);
  const inIp = input.subarray(ip.offset, ip.offset + ipLen);
  if (pout.inner && !pout.inner.quoted && pout.inner.ip) {
    const o = pout.inner.ip.offset;
    if (!output.subarray(o, o + ipLen).equals(inIp)) fail('tunnel inner packet differs from the input', input, output);
  } else if (kind === 'vip' && pout.ip && pout.ip.dst === ip.dst) {
    if (!output.subarray(pout.ip.offset, pout.ip.offset + ipLen).equals(inIp)) fail('dr packet changed beyond Ethernet', input, output);
  }
}

/**
 * A reflected BFD echo: the frame as it came, but for the Ethernet and IP
 * addresses swapped, TTL / hop limit 254 and the IPv4 header checksum; that
 * checksum verifies whenever the input's did.
 */
function checkReflected(input: Buffer, output: Buffer, fail: (what: string, i: Buffer, o?: Buffer) => void): void {
  const pin = parsePacket(input);
  const pout = parsePacket(output);
  const ip = pin.ip!;
  const op = pout.ip;
  if (output.length !== input.length || !op || !pout.l4) return fail('reflected echo: not the same frame', input, output);
  const want: Buffer[] = [input.subarray(6, 12), input.subarray(0, 6), input.subarray(12, ip.offset)];
  const got: Buffer[] = [output.subarray(0, 6), output.subarray(6, 12), output.subarray(12, op.offset)];
  if (!want.every((w, i) => w.equals(got[i]!))) return fail('reflected echo: Ethernet addresses not swapped (or the tags changed)', input, output);
  if (op.src !== ip.dst || op.dst !== ip.src) return fail('reflected echo: IP addresses not swapped', input, output);
  const ttl = op.version === 4 ? op.ttl : op.hopLimit;
  if (ttl !== 254) return fail(`reflected echo: TTL ${ttl}, not 254`, input, output);
  if (ip.version === 4 && op.version === 4 && ip.checksumOk && !op.checksumOk) return fail('reflected echo: IPv4 header checksum broken', input, output);
  const l4 = pin.l4!.offset;
  if (pout.l4.offset !== l4 || !output.subarray(l4).equals(input.subarray(l4))) return fail('reflected echo: UDP header or payload changed', input, output);
  const inP = problems(input);
  const inChecksumBad = inP.some((p) => CHECKSUM.test(p));
  const inSet = new Set(inP.filter((p) => !CHECKSUM.test(p)));
  const added = problems(output).filter((p) => (CHECKSUM.test(p) ? !inChecksumBad : !inSet.has(p)));
  if (added.length) fail(`reflected echo broken: ${added.join('; ')}`, input, output);
}

process.exitCode = main();
