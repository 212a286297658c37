/**
 * @module lab/check-servers
 * Servers the health checks of the lab probe, besides the HTTP backend
 * (lab/http-backend.ts), started inside a backend namespace:
 *
 *   node dist/src/lab/check-servers.js --name be1 [--https 443 --cert F --key F] [--udp 7] [--smtp 25]
 *
 * - https: answers every request 200 with `backend <name>\n` (TLS with the
 *   given certificate);
 * - udp: echoes each datagram, from the address it was sent to: one socket
 *   per address of the namespace at start (a VIP on lo included), as a UDP
 *   service behind dr must (a socket bound to [::] would answer from the
 *   outgoing interface's address, which a client of the VIP drops);
 * - smtp: a banner `220 <name> ESMTP`, `250` to HELO/EHLO, `221` to QUIT,
 *   `502` otherwise.
 * The TCP ones listen dual stack on [::]. Prints one JSON line
 * `{"event":"listening",...}` once all listen; SIGTERM/SIGINT closes
 * everything and exits 0.
 *
 * Layer: test tooling (lab). Node built-ins only.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { createServer as createTlsServer } from 'node:https';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';

function usage(msg: string): never {
  process.stderr.write(`check-servers: ${msg}\nusage: check-servers.js --name NAME [--https PORT --cert FILE --key FILE] [--udp PORT] [--smtp PORT]\n`);
  process.exit(2);
}

const argv = process.argv.slice(2);
const opts = new Map<string, string>();
for (let i = 0; i < argv.length; i += 2) {
  const k = argv[i] ?? '';
  const v = argv[i + 1];
  if (!['--name', '--https', '--cert', '--key', '--udp', '--smtp'].includes(k) || v === undefined) usage(`bad argument ${JSON.stringify(k)}`);
  opts.set(k.slice(2), v);
}
const name = opts.get('name') ?? usage('--name is required');
if (!/^[\w.-]{1,64}$/.test(name)) usage('--name: 1-64 of [A-Za-z0-9_.-]');
const port = (k: string): number | undefined => {
  const v = opts.get(k);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) usage(`--${k}: a port 1-65535`);
  return n;
};

const closers: (() => void)[] = [];
const ready: Promise<void>[] = [];
const sockets = new Set<Socket>();

const httpsPort = port('https');
if (httpsPort !== undefined) {
  const cert = opts.get('cert') ?? usage('--https needs --cert');
  const key = opts.get('key') ?? usage('--https needs --key');
  const srv = createTlsServer({ cert: readFileSync(cert), key: readFileSync(key) }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': name }).end(`backend ${name}\n`);
  });
  srv.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  ready.push(new Promise((done) => srv.listen(httpsPort, '::', done)));
  closers.push(() => srv.close());
}

const udpPort = port('udp');
if (udpPort !== undefined) {
  for (const a of Object.values(networkInterfaces()).flat()) {
    if (!a || (a.family === 'IPv6' && a.scopeid)) continue; // not link-local
    const sock = createSocket(a.family === 'IPv6' ? 'udp6' : 'udp4');
    sock.on('message', (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
    ready.push(new Promise((done) => sock.bind(udpPort, a.address, done)));
    closers.push(() => sock.close());
  }
}

const smtpPort = port('smtp');
if (smtpPort !== undefined) {
  const srv: Server = createTcpServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    s.write(`220 ${name} ESMTP\r\n`);
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.length > 4096) {
        s.destroy();
        return;
      }
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        const verb = line.split(' ')[0]!.toUpperCase();
        if (verb === 'HELO' || verb === 'EHLO') s.write(`250 ${name}\r\n`);
        else if (verb === 'QUIT') s.end('221 bye\r\n');
        else s.write('502 not implemented\r\n');
      }
    });
  });
  ready.push(new Promise((done) => srv.listen(smtpPort, '::', done)));
  closers.push(() => srv.close());
}

await Promise.all(ready);
process.stdout.write(`${JSON.stringify({ event: 'listening', name, https: httpsPort, udp: udpPort, smtp: smtpPort })}\n`);

const stop = (): void => {
  for (const c of closers) c();
  for (const s of sockets) s.destroy();
  setTimeout(() => process.exit(0), 200).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
