/**
 * `make demo`: the data path at work on an embedded default, in a private
 * network namespace the demo builds and removes. Loads bpf/.output/xlb.bpf.o,
 * configures three virtual services (dr, tunnel, nat), sends client flows
 * through the real program with BPF_PROG_TEST_RUN and prints where each one
 * went, what a backend drain and a backend addition do to existing flows, and
 * the counters. (Real traffic between namespaces and `xlb load` come with the
 * daemon; this shows the forwarding decisions they rest on.) Needs root.
 */
import { isRoot, LAB_MAC } from '../support/fib-lab.js';
import { parsePacket, pkt } from '../support/packet.js';
import { XdpHarness, TCP, UDP, type TestService } from '../support/xdp-harness.js';

const SERVICES: TestService[] = [
  { vipId: 1, addr: '10.9.0.1', port: 80, proto: TCP, mode: 'dr', backends: [{ id: 1, addr: '10.0.0.10' }, { id: 2, addr: '10.0.0.11' }, { id: 3, addr: '10.0.0.12' }] },
  { vipId: 2, addr: '10.9.0.2', port: 443, proto: TCP, mode: 'tunnel', backends: [{ id: 4, addr: '10.0.0.10' }, { id: 5, addr: '10.0.0.11' }, { id: 6, addr: '10.1.0.10' }] },
  { vipId: 3, addr: 'fd09::3', port: 53, proto: UDP, mode: 'nat', backends: [{ id: 7, addr: 'fd00::11', port: 5353 }, { id: 8, addr: 'fd00::12', port: 5353 }] },
];
const MAC_NAME: Record<string, string> = Object.fromEntries(Object.entries(LAB_MAC).map(([k, v]) => [v, k]));

function say(s = ''): void {
  process.stdout.write(`${s}\n`);
}

function flowPacket(s: TestService, i: number): Buffer {
  const v6 = s.addr.includes(':');
  const b = pkt().eth(LAB_MAC.client, LAB_MAC.xa);
  const l3 = v6 ? b.ipv6(`fd00::1:${(0x100 + i).toString(16)}`, s.addr) : b.ipv4(`10.8.${i >> 8}.${i & 255}`, s.addr);
  const l4 = s.proto === TCP ? l3.tcp(40000 + (i % 20000), s.port, { flags: { syn: true } }) : l3.udp(40000 + (i % 20000), s.port);
  return l4.payload('hello').build();
}

/** One line saying where the program sent a packet. */
function describe(h: XdpHarness, s: TestService, input: Buffer): string {
  const r = h.run(input);
  const pin = parsePacket(input);
  const out = parsePacket(r.data);
  const from = `${pin.ip?.src}:${pin.l4 && 'sport' in pin.l4 ? pin.l4.sport : ''}`;
  let to = '';
  if (s.mode === 'dr') to = `backend MAC ${out.eth?.dst} (${MAC_NAME[out.eth?.dst ?? ''] ?? '?'})`;
  else if (s.mode === 'tunnel') to = `IPIP ${out.ip?.src} -> ${out.ip?.dst}, next hop ${MAC_NAME[out.eth?.dst ?? ''] ?? out.eth?.dst}`;
  else to = `rewritten to [${out.ip?.dst}]:${out.l4 && 'dport' in out.l4 ? out.l4.dport : ''}`;
  return `  ${from.padEnd(24)} -> ${s.mode.padEnd(6)} ${s.addr}:${s.port}  =>  ${to}  (XDP_${r.verdict})`;
}

function main(): number {
  if (!isRoot()) {
    say('make demo needs root: it builds a network namespace and loads an XDP program');
    return 1;
  }
  const h = XdpHarness.open({ maxVips: 8, maxBackends: 32, maxConns: 65536, ringSize: 65537 });
  try {
    say(`xlb data-path demo: namespace ${h.lab.ns}, ring size 65537, object bpf/.output/xlb.bpf.o`);
    for (const s of SERVICES) h.service(s);
    h.dp.setGlobals({ tunSrc4: 0x0a000001 });
    say('\nvirtual services:');
    for (const s of SERVICES) say(`  ${s.mode.padEnd(6)} ${s.addr}:${s.port}/${s.proto === TCP ? 'tcp' : 'udp'}  backends ${s.backends.map((b) => b.addr + (b.port ? `:${b.port}` : '')).join(', ')}`);

    say('\nnew flows (Maglev picks the backend; the connection table records it):');
    for (const s of SERVICES) for (let i = 0; i < 4; i++) say(describe(h, s, flowPacket(s, i)));

    say('\n3000 more flows per service, share per backend:');
    for (const s of SERVICES) {
      const before = s.backends.map((b) => h.dp.backendStats(b.id).packets);
      for (let i = 100; i < 3100; i++) h.run(flowPacket(s, i));
      const shares = s.backends.map((b, j) => `${b.addr} ${((Number(h.dp.backendStats(b.id).packets - before[j]!) / 3000) * 100).toFixed(1)}%`);
      say(`  ${s.mode.padEnd(6)} ${s.addr}:${s.port}  ${shares.join('  ')}`);
    }

    const dr = SERVICES[0]!;
    say(`\ndrain backend 10.0.0.11 of ${dr.addr}:80 (weight 0): recorded flows keep it, new flows avoid it:`);
    h.service({ ...dr, backends: dr.backends.map((b) => (b.addr === '10.0.0.11' ? { ...b, weight: 0 } : b)) });
    for (let i = 0; i < 4; i++) say(describe(h, dr, flowPacket(dr, i)));
    for (let i = 10; i < 13; i++) say(describe(h, dr, flowPacket(dr, i)) + '  [new]');

    say('\nnon-VIP and malformed traffic:');
    const sshToNode = pkt().eth(LAB_MAC.client, LAB_MAC.xa).ipv4('10.0.0.2', '10.0.0.1').tcp(50000, 22).build();
    say(`  ssh to the node itself       => XDP_${h.run(sshToNode).verdict}`);
    const ping = pkt().eth(LAB_MAC.client, LAB_MAC.xa).ipv4('10.0.0.2', dr.addr).icmp(8, 0, { id: 1, seq: 1 }).build();
    say(`  ping ${dr.addr}             => XDP_${h.run(ping).verdict} (answered in XDP)`);
    const cut = flowPacket(dr, 0).subarray(0, 40);
    say(`  frame cut inside TCP header  => XDP_${h.run(cut).verdict}`);

    say('\ncounters (summed over CPUs):');
    for (const s of SERVICES) {
      const v = h.dp.vipStats(s.vipId);
      say(`  vip ${s.addr}:${s.port}  packets ${v.packets}  bytes ${v.bytes}  new flows ${v.newFlows}`);
      for (const b of s.backends) {
        const st = h.dp.backendStats(b.id);
        say(`    backend ${b.addr.padEnd(10)} packets ${st.packets}  new flows ${st.newFlows}`);
      }
    }
    say('  reasons:');
    for (const [k, v] of Object.entries(h.dp.reasonCounters())) if (v.packets) say(`    ${k.padEnd(24)} ${v.packets}`);
    say('  events:');
    for (const [k, v] of Object.entries(h.dp.eventCounters())) if (v) say(`    ${k.padEnd(24)} ${v}`);
  } finally {
    h.close();
  }
  say('\nnamespace removed; done.');
  return 0;
}

process.exitCode = main();
