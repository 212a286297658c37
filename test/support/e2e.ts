/**
 * Test helpers of the e2e tier: polling for a condition, and a long-lived
 * HTTP stream from the lab's client. Not a test file itself.
 */
import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../../src/lab/lab.js';

/**
 * Poll `fn` until it returns something other than undefined (bounded).
 * @param what named in the timeout error
 * @param ms give up after this long
 * @param every poll interval, ms
 */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15000, every = 100): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** A GET of a lab backend's `/stream?secs=N` from the client namespace. */
export interface Stream {
  child: ChildProcess;
  /**
   * What the client printed so far: `B <backend>` once the answer starts,
   * `LINES <n>` when it ended (n lines received), `ERR <message>` on an error.
   */
  output(): string;
}

/**
 * Open a long-lived connection through a VIP (the backend streams one line a second).
 * @param url the VIP's URL up to and including the `/`
 * @param secs how long the backend streams
 */
export function openStream(lab: Lab, url: string, secs: number): Stream {
  const child = lab.spawn(lab.ns.client, process.execPath, [
    '-e',
    `const h=require('http');h.get('${url}stream?secs=${secs}',{agent:false},r=>{process.stdout.write('B '+r.headers['x-backend']+'\\n');let n=0;r.on('data',d=>{n+=String(d).split('\\n').length-1});r.on('end',()=>{process.stdout.write('LINES '+n+'\\n')})}).on('error',e=>{process.stdout.write('ERR '+e.message+'\\n')})`,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  return { child, output: () => out };
}
