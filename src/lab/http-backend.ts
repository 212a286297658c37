/**
 * @module lab/http-backend
 * The lab's HTTP backend, started inside a backend namespace:
 *
 *   node dist/src/lab/http-backend.js --name be1 [--port 80[,8080...]] [--host ::]
 *
 * Listens on [::]:80 (or each port of the comma-separated list; the lab uses
 * 80 and 8080, see examples/lab.yaml), dual stack (IPv4 arrives as
 * ::ffff:a.b.c.d), and
 * answers every request with status 200, the body `backend <name>\n` and the
 * headers `X-Backend: <name>`, `X-Client-Addr` (the peer address it saw:
 * the real client in dr and tunnel modes, and in nat mode too, since xlb
 * rewrites only the destination) and `X-Local-Addr` (the address the client
 * reached: the VIP in dr and tunnel modes, the backend's own address in nat
 * mode). Special paths:
 * - `/slow?ms=N`: answers after N ms (0 ≤ N ≤ 60000);
 * - `/stream?secs=N`: keeps the connection open and writes one line per
 *   second, `backend <name> <i>\n`, for N seconds (1 ≤ N ≤ 3600), then ends;
 *   the first line is written at once (for long-lived connection tests).
 * A bad N answers 400.
 *
 * Prints one JSON line `{"event":"listening","name":..,"ports":[..]}` on
 * stdout once it listens on every port (Lab waits for it), nothing else on
 * stdout. SIGTERM/SIGINT:
 * closes the listener, ends streams and open connections, exits 0 (forced
 * after 2 s).
 *
 * Layer: test tooling (lab). Plain node:http, no dependencies.
 */
import http from 'node:http';

/** Upper bound of /slow, ms. */
const MAX_SLOW_MS = 60_000;
/** Upper bound of /stream, s. */
const MAX_STREAM_SECS = 3600;

function usage(msg: string): never {
  process.stderr.write(`http-backend: ${msg}\nusage: http-backend.js --name NAME [--port N[,N...]] [--host ADDR]\n`);
  process.exit(2);
}

const argv = process.argv.slice(2);
const opts = new Map<string, string>();
for (let i = 0; i < argv.length; i += 2) {
  const k = argv[i] ?? '';
  const v = argv[i + 1];
  if (!['--name', '--port', '--host'].includes(k) || v === undefined) usage(`bad argument ${JSON.stringify(k)}`);
  opts.set(k.slice(2), v);
}
const name = opts.get('name') ?? usage('--name is required');
if (!/^[\w.-]{1,64}$/.test(name)) usage('--name: 1-64 of [A-Za-z0-9_.-]');
const ports = (opts.get('port') ?? '80').split(',').map(Number);
if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535) || new Set(ports).size !== ports.length) usage('--port: distinct ports 1-65535, comma-separated');
const host = opts.get('host') ?? '::';

/** Timers of open /slow and /stream answers, cleared on shutdown. */
const timers = new Set<NodeJS.Timeout>();
/** Responses of open /stream answers, ended on shutdown. */
const streams = new Set<http.ServerResponse>();

/** Integer query parameter in [min, max], or undefined when absent/bad. */
function intParam(u: URL, key: string, min: number, max: number): number | undefined {
  const s = u.searchParams.get(key);
  if (s === null || !/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= min && n <= max ? n : undefined;
}

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume(); // any request body is ignored
  const u = new URL(req.url ?? '/', 'http://backend');
  const headers = {
    'content-type': 'text/plain; charset=utf-8',
    'x-backend': name,
    'x-client-addr': req.socket.remoteAddress ?? '',
    'x-local-addr': req.socket.localAddress ?? '',
  };
  const body = `backend ${name}\n`;
  const bad = (what: string): void => {
    res.writeHead(400, { ...headers, 'content-type': 'text/plain; charset=utf-8' });
    res.end(`bad ${what}\n`);
  };
  if (u.pathname === '/slow') {
    const ms = intParam(u, 'ms', 0, MAX_SLOW_MS);
    if (ms === undefined) return bad(`ms (0-${MAX_SLOW_MS})`);
    const t = setTimeout(() => {
      timers.delete(t);
      res.writeHead(200, headers);
      res.end(body);
    }, ms);
    timers.add(t);
    res.on('close', () => {
      clearTimeout(t);
      timers.delete(t);
    });
    return;
  }
  if (u.pathname === '/stream') {
    const secs = intParam(u, 'secs', 1, MAX_STREAM_SECS);
    if (secs === undefined) return bad(`secs (1-${MAX_STREAM_SECS})`);
    res.writeHead(200, headers);
    streams.add(res);
    let i = 0;
    const tick = (): void => {
      res.write(`backend ${name} ${i}\n`);
      i++;
      if (i >= secs) finish();
    };
    const t = setInterval(tick, 1000);
    timers.add(t);
    const finish = (): void => {
      clearInterval(t);
      timers.delete(t);
      streams.delete(res);
      if (!res.writableEnded) res.end();
    };
    res.on('close', finish);
    tick();
    return;
  }
  res.writeHead(200, headers);
  res.end(body);
}

const servers = ports.map((port) => {
  const server = http.createServer(handle);
  server.on('error', (err) => {
    process.stderr.write(`http-backend ${name}: port ${port}: ${err.message}\n`);
    process.exit(1);
  });
  return { port, server };
});
let listening = 0;
for (const { port, server } of servers) {
  server.listen({ host, port, ipv6Only: false }, () => {
    if (++listening === servers.length) process.stdout.write(`${JSON.stringify({ event: 'listening', name, ports, pid: process.pid })}\n`);
  });
}

let stopping = false;
function shutdown(): void {
  if (stopping) return;
  stopping = true;
  for (const t of timers) clearTimeout(t);
  timers.clear();
  for (const r of streams) r.end();
  streams.clear();
  let open = servers.length;
  for (const { server } of servers) {
    server.close(() => --open === 0 && process.exit(0));
    server.closeAllConnections();
  }
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
