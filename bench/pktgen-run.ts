/**
 * The traffic generator process of the packet-rate bench: loads
 * bpf/.output/pktgen.bpf.o with the frame's addresses, and sends `--frames`
 * frames out of `--ifname` with BPF_PROG_TEST_RUN + BPF_F_TEST_XDP_LIVE_FRAMES.
 * Started by bench/pps.ts inside the generator's namespace (nsenter) and
 * pinned to a CPU (taskset); prints {frames, ms} as JSON. A failure (live
 * frames refused: EPERM) is one line `pktgen-run: <message>` on stderr, exit 1.
 */
import { parseArgs } from 'node:util';
import { dirname, resolve } from 'node:path';
import { native } from '../src/native/binding.js';
import { defaultObjectPath } from '../src/dataplane/xdp/xdp-dataplane.js';

const BPF_F_TEST_XDP_LIVE_FRAMES = 2;

const { values } = parseArgs({
  options: {
    ifname: { type: 'string' },
    frames: { type: 'string', default: '4000000' },
    'dst-mac': { type: 'string' },
    'src-mac': { type: 'string' },
    'src-ip': { type: 'string' },
    'dst-ip': { type: 'string' },
    dport: { type: 'string', default: '9' },
  },
});
const mac = (s: string | undefined): Buffer => Buffer.from((s ?? '').split(':').map((x) => parseInt(x, 16)));
const ip4 = (s: string | undefined): Buffer => Buffer.from((s ?? '').split('.').map(Number));
const obj = new (native().BpfObject)(resolve(dirname(defaultObjectPath()), 'pktgen.bpf.o'));
try {
  run();
} catch (e) {
  process.stderr.write(`pktgen-run: ${(e as Error).message}\n`);
  process.exitCode = 1;
} finally {
  obj.close();
}

function run(): void {
  obj.setGlobal('dst_mac', mac(values['dst-mac']));
  obj.setGlobal('src_mac', mac(values['src-mac']));
  obj.setGlobal('src_ip', ip4(values['src-ip']));
  obj.setGlobal('dst_ip', ip4(values['dst-ip']));
  const dp = Buffer.alloc(2);
  dp.writeUInt16LE(Number(values.dport));
  obj.setGlobal('dport', dp);
  obj.load();
  const ifindex = native().ifNameToIndex(values.ifname ?? '');
  const frames = Number(values.frames);
  const t0 = performance.now();
  obj.testRun('xlb_pktgen', { data: Buffer.alloc(60), repeat: frames, ingressIfindex: ifindex, flags: BPF_F_TEST_XDP_LIVE_FRAMES, batchSize: 64 });
  process.stdout.write(`${JSON.stringify({ frames, ms: performance.now() - t0 })}\n`);
}
