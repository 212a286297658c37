/**
 * @module lab/client
 * HTTP load client of the e2e lab, run inside the client namespace:
 *
 *   node dist/src/lab/client.js --url http://10.99.0.10/ --count 300 --concurrency 4 --timeout 2000
 *   node dist/src/lab/client.js --url http://[fd99::10]/ --duration-ms 5000 --count 100000
 *
 * --url may be repeated: request i goes to url[i mod n].
 * Every request is a GET on a NEW TCP connection (agent: false, Connection:
 * close), so each one is a new flow for the load balancer. --timeout bounds
 * each whole exchange (connect, answer, body), so a stalled SYN fails as
 * `timeout` too. Prints exactly one
 * JSON line, {ok, failed, byBackend, errors, started, elapsedMs}, and exits 0
 * (2 on bad arguments). A request counts as ok when it answers 2xx with an
 * `X-Backend` header; byBackend counts those per header value.
 *
 * Bounds: at most --count requests; in --duration-ms mode no request starts
 * after the duration; and an overall deadline (--deadline-ms, default
 * duration + timeout, or ceil(count / concurrency) * timeout + timeout, at
 * most 600 s) aborts whatever is still in flight and reports.
 *
 * Layer: test tooling (lab). Plain node:http, no dependencies.
 */
import http from 'node:http';

/** Parsed command line. */
interface Args {
  urls: string[];
  count: number;
  concurrency: number;
  timeout: number;
  durationMs: number | undefined;
  deadlineMs: number;
}

/** Longest run the client allows, ms. */
const MAX_DEADLINE_MS = 600_000;

function usage(msg: string): never {
  process.stderr.write(`client: ${msg}\nusage: client.js --url URL [--url URL...] [--count N] [--concurrency C] [--timeout MS] [--duration-ms MS] [--deadline-ms MS]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const opts = new Map<string, string>();
  const urls: string[] = [];
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i] ?? '';
    const v = argv[i + 1];
    if (!k.startsWith('--') || v === undefined) usage(`bad argument ${JSON.stringify(k)}`);
    if (k === '--url') urls.push(v);
    else opts.set(k.slice(2), v);
  }
  const int = (k: string, def: number | undefined, min: number, max: number): number | undefined => {
    const s = opts.get(k);
    if (s === undefined) return def;
    const n = Number(s);
    if (!Number.isInteger(n) || n < min || n > max) usage(`--${k} must be an integer in [${min}, ${max}]`);
    return n;
  };
  for (const k of opts.keys()) if (!['count', 'concurrency', 'timeout', 'duration-ms', 'deadline-ms'].includes(k)) usage(`unknown option --${k}`);
  if (urls.length === 0) usage('--url is required');
  for (const url of urls) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      usage(`bad --url ${url}`);
    }
    if (u.protocol !== 'http:') usage('--url must be http://');
  }
  const durationMs = int('duration-ms', undefined, 1, MAX_DEADLINE_MS);
  const count = int('count', durationMs === undefined ? 100 : 1_000_000, 1, 10_000_000) as number;
  const concurrency = int('concurrency', 4, 1, 1024) as number;
  const timeout = int('timeout', 2000, 1, 120_000) as number;
  const def = durationMs !== undefined ? durationMs + timeout : Math.ceil(count / concurrency) * timeout + timeout;
  const deadlineMs = int('deadline-ms', Math.min(def, MAX_DEADLINE_MS), 1, MAX_DEADLINE_MS) as number;
  return { urls, count, concurrency, timeout, durationMs, deadlineMs };
}

/** One GET on a new connection: resolves to the backend name, rejects with a short reason. */
function getOnce(url: string, timeout: number, inflight: Set<http.ClientRequest>): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      const backend = res.headers['x-backend'];
      res.resume(); // drain; the answer is in the header
      res.on('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code ?? e.message)));
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        if (code < 200 || code > 299) reject(new Error(`HTTP ${code}`));
        else if (typeof backend !== 'string' || backend === '') reject(new Error('no X-Backend header'));
        else resolve(backend);
      });
    });
    inflight.add(req);
    // the whole exchange, connect included (req.setTimeout only starts once connected)
    const timer = setTimeout(() => req.destroy(new Error('timeout')), timeout);
    req.on('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code ?? e.message)));
    req.on('close', () => {
      clearTimeout(timer);
      inflight.delete(req);
      reject(new Error('closed early')); // no-op once settled
    });
  });
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const stopStarting = a.durationMs !== undefined ? t0 + a.durationMs : Infinity;
  const deadline = t0 + a.deadlineMs;
  const byBackend: Record<string, number> = {};
  const errors: string[] = [];
  const inflight = new Set<http.ClientRequest>();
  let ok = 0;
  let failed = 0;
  let started = 0;
  let expired = false;

  const report = (): void => {
    process.stdout.write(`${JSON.stringify({ ok, failed, byBackend, errors, started, elapsedMs: Date.now() - t0 })}\n`);
  };
  // the overall deadline: abort what is in flight; the workers then finish
  const hard = setTimeout(() => {
    expired = true;
    for (const r of inflight) r.destroy(new Error('deadline'));
  }, a.deadlineMs);

  const worker = async (): Promise<void> => {
    while (!expired && started < a.count && Date.now() < stopStarting && Date.now() < deadline) {
      const url = a.urls[started % a.urls.length] ?? '';
      started++;
      try {
        const name = await getOnce(url, a.timeout, inflight);
        ok++;
        byBackend[name] = (byBackend[name] ?? 0) + 1;
      } catch (err) {
        failed++;
        if (errors.length < 10) errors.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(a.concurrency, a.count) }, worker));
  clearTimeout(hard);
  report();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`client: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
