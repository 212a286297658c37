/**
 * The advert receiver of the VRRP jitter bench (bench/vrrp.ts), run in the
 * lab's client namespace:
 *
 *   node vrrp-rx.js [--ifname eth0] [--vrid 51] [--duration 120000]
 *
 * A raw IPv4 socket of protocol 112 (the repo's RawSocket) that joins
 * 224.0.0.18 on the interface and reads every advert on the event loop; one
 * JSON line per advert of `vrid` on stdout: `{"t": performance.now() at the
 * read, "w": the same instant as wall-clock ms (timeOrigin + t), "src",
 * "prio", "ttl"}`. Nothing else runs in this process, so the read time is the
 * arrival time plus the wake-up of an idle event loop. Exits after
 * `duration` ms (or on SIGTERM).
 */
import { RawSocket } from '../src/native/socket.js';
import { native } from '../src/native/binding.js';

const argv = process.argv.slice(2);
const opt = new Map<string, string>();
for (let i = 0; i + 1 < argv.length; i += 2) opt.set(argv[i]!.replace(/^--/, ''), argv[i + 1]!);
const ifname = opt.get('ifname') ?? 'eth0';
const vrid = Number(opt.get('vrid') ?? 51);
const duration = Number(opt.get('duration') ?? 120_000);

const sock = new RawSocket({ family: 4, type: 'raw', protocol: 112 });
sock.joinMulticast('224.0.0.18', native().ifNameToIndex(ifname));
sock.enableRecvTtl();
sock.on('message', (m) => {
  const t = performance.now();
  const d = m.data;
  if (d.length < 20) return;
  const ihl = (d[0]! & 0x0f) * 4;
  if (d.length < ihl + 8 || (d[ihl]! & 0x0f) !== 1 || d[ihl + 1] !== vrid) return;
  process.stdout.write(`${JSON.stringify({ t, w: performance.timeOrigin + t, src: m.address, prio: d[ihl + 2], ttl: m.ttl })}\n`);
});
sock.on('error', (err) => process.stderr.write(`vrrp-rx: ${err.message}\n`));
sock.start();

const stop = (): void => {
  sock.close();
  process.exit(0);
};
setTimeout(stop, duration);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
