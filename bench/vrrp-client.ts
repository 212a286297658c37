/**
 * The client of the VRRP failover bench (bench/vrrp.ts), run in the lab's
 * client namespace:
 *
 *   node vrrp-client.js --addr 10.98.0.100 [--port 80] [--every 5] [--timeout 200] [--duration 20000]
 *
 * Every `every` ms it opens a fresh TCP connection to addr:port (whatever
 * the ones before it are doing), sends `GET /` and reads the `X-Backend`
 * header of the answer (src/lab/http-backend.ts answers with its --name).
 * One JSON line per answer on stdout: `{"t": Date.now() at the answer,
 * "node": name}`. A connection that has no answer after `timeout` ms is
 * dropped silently. Exits after `duration` ms (or on SIGTERM).
 */
import net from 'node:net';

const argv = process.argv.slice(2);
const opt = new Map<string, string>();
for (let i = 0; i + 1 < argv.length; i += 2) opt.set(argv[i]!.replace(/^--/, ''), argv[i + 1]!);
const addr = opt.get('addr');
if (!addr || !net.isIP(addr)) {
  process.stderr.write('usage: vrrp-client.js --addr IP [--port 80] [--every 5] [--timeout 200] [--duration 20000]\n');
  process.exit(2);
}
const port = Number(opt.get('port') ?? 80);
const every = Number(opt.get('every') ?? 5);
const timeout = Number(opt.get('timeout') ?? 200);
const duration = Number(opt.get('duration') ?? 20_000);

function once(): void {
  const s = net.connect({ host: addr!, port });
  let buf = '';
  const t = setTimeout(() => s.destroy(), timeout);
  s.setEncoding('latin1');
  s.on('connect', () => s.write('GET / HTTP/1.0\r\n\r\n'));
  s.on('data', (d: string) => {
    buf += d;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const now = Date.now();
    const m = /^x-backend:\s*([^\r\n]+)/im.exec(buf.slice(0, end));
    clearTimeout(t);
    s.destroy();
    if (m) process.stdout.write(`${JSON.stringify({ t: now, node: m[1]!.trim() })}\n`);
  });
  s.on('error', () => {
    clearTimeout(t);
    s.destroy();
  });
  s.on('close', () => clearTimeout(t));
}

const timer = setInterval(once, every);
const stop = (): void => {
  clearInterval(timer);
  process.exit(0);
};
setTimeout(stop, duration);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
