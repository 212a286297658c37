/**
 * @module daemon/control
 * The daemon's control socket: a unix socket at /run/xlb/<instance>.sock
 * (mode 0600), one JSON request per line, one JSON reply per line. Used by
 * `xlb reload` and `xlb status`. Edge module (sockets, files).
 */
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { dirname } from 'node:path';

/** Where an instance's control socket lives. */
export function controlPath(instance: string, runDir = process.env.XLB_RUN_DIR ?? '/run/xlb'): string {
  return `${runDir}/${instance}.sock`;
}

/** A request on the socket. */
export type ControlRequest = { cmd: 'reload'; config?: string } | { cmd: 'status' };

/** Serve requests; `handle` answers each one (its errors become `{ ok: false, error }`). */
export function serveControl(path: string, handle: (req: ControlRequest) => Promise<unknown>): Server {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (existsSync(path)) {
    // a socket nobody answers on is left over from a crash; a live one is another daemon
    unlinkSync(path);
  }
  const server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > 1 << 20) return void sock.destroy();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let req: ControlRequest;
        try {
          req = JSON.parse(line) as ControlRequest;
        } catch {
          sock.write(`${JSON.stringify({ ok: false, error: 'bad request: not JSON' })}\n`);
          continue;
        }
        handle(req).then(
          (reply) => sock.write(`${JSON.stringify(reply)}\n`),
          (err: Error) => sock.write(`${JSON.stringify({ ok: false, error: err.message })}\n`),
        );
      }
    });
    sock.on('error', () => sock.destroy());
  });
  server.listen(path, () => chmodSync(path, 0o600));
  return server;
}

/**
 * Wait until the daemon of `instance` answers `status` (it has applied its
 * config and serves the socket), polling every 100 ms.
 * @param what called on timeout for the error message (e.g. the daemon's log)
 * @throws Error after `timeoutMs`
 */
export async function waitForDaemon(instance: string, timeoutMs = 15_000, what: () => string = () => ''): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await controlRequest(controlPath(instance), { cmd: 'status' }, 1000)).ok) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > end) throw new Error(`the xlb daemon of instance ${instance} did not answer within ${timeoutMs} ms${what() ? `:\n${what()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Send one request to a running daemon.
 * @throws Error with code ENOENT / ECONNREFUSED when no daemon listens
 */
export function controlRequest(path: string, req: ControlRequest, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(Object.assign(new Error(`no reply from ${path} within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      try {
        resolve(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
      } catch (err) {
        reject(err as Error);
      }
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
