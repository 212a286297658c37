/**
 * @module health/probes/file
 * FILE_CHECK (keepalived track_file, §3.2): read an integer from the first
 * line of a file. With a weight, the backend's weight becomes value x weight
 * (clamped to 0..65535; negative = down); with weight 0, any non-zero value =
 * down. `reverse` negates the value first. This is how an operator drains or
 * reweights a backend at run time without a reload.
 *
 * Only the first {@link FILE_READ_BYTES} bytes are read, so a path pointing at
 * a huge or endless file (/dev/zero) cannot hurt.
 *
 * Layer: control plane, I/O (one file read, one timer per attempt). The parse
 * and the weight rule ({@link parseFileValue}, {@link fileValueOutcome}) are pure.
 */
import { open } from 'node:fs/promises';
import type { FileCheckSpec } from '../spec.js';
import { AttemptSet, CLOSED_DETAIL, errorText, failResult, okResult, type Probe, type ProbeResult } from './types.js';

/** Bytes read from the start of the file; the first line must fit. */
export const FILE_READ_BYTES = 256;
/** Largest backend weight the data plane takes. */
export const MAX_BACKEND_WEIGHT = 65535;

/**
 * The integer on the first line of `text` (surrounding blanks allowed).
 * @param text the start of the file
 * @returns the value, or why it is not one
 */
export function parseFileValue(text: string): number | string {
  const nl = text.indexOf('\n');
  const line = (nl < 0 ? text : text.slice(0, nl)).trim();
  if (!/^[+-]?[0-9]{1,15}$/.test(line)) return `first line ${JSON.stringify(line.slice(0, 40))} is not an integer`;
  return Number(line);
}

/** What a value means for the check. */
export type FileOutcome = { ok: true; weight?: number; detail: string } | { ok: false; detail: string };

/**
 * Apply the check's weight rule to a value read from the file.
 * @param value the integer read
 * @param spec weight and reverse
 */
export function fileValueOutcome(value: number, spec: Pick<FileCheckSpec, 'weight' | 'reverse'>): FileOutcome {
  const v = spec.reverse ? -value : value;
  if (spec.weight === 0) return v === 0 ? { ok: true, detail: 'value 0' } : { ok: false, detail: `value ${v}` };
  const product = v * spec.weight;
  if (product < 0) return { ok: false, detail: `value ${v} x weight ${spec.weight} = ${product}` };
  const weight = Math.min(product, MAX_BACKEND_WEIGHT);
  return { ok: true, weight, detail: `value ${v} x weight ${spec.weight} = ${weight}` };
}

/** FILE probe. */
class FileProbe implements Probe {
  readonly #attempts = new AttemptSet();

  constructor(private readonly spec: FileCheckSpec) {}

  run(): Promise<ProbeResult> {
    const t0 = performance.now();
    if (this.#attempts.closed) return Promise.resolve(failResult(t0, 'io', CLOSED_DETAIL));
    const { spec } = this;
    return new Promise<ProbeResult>((resolve) => {
      let done = false;
      const finish = (r: ProbeResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#attempts.delete(abort);
        resolve(r);
      };
      const abort = (): void => finish(failResult(t0, 'io', CLOSED_DETAIL));
      // A hung file system (NFS) must not hold the attempt; the read itself finishes in the background.
      const timer = setTimeout(() => finish(failResult(t0, 'timeout', `reading ${spec.path} took more than ${spec.timeoutMs} ms`)), spec.timeoutMs);
      this.#attempts.add(abort);
      readStart(spec.path).then(
        (text) => {
          const v = parseFileValue(text);
          if (typeof v === 'string') {
            finish(failResult(t0, 'io', `${spec.path}: ${v}`));
            return;
          }
          const o = fileValueOutcome(v, spec);
          finish(o.ok ? okResult(t0, o.weight, o.detail) : failResult(t0, 'value', o.detail));
        },
        (err: unknown) => finish(failResult(t0, 'io', errorText(err))),
      );
    });
  }

  close(): void {
    this.#attempts.close();
  }
}

/** The first {@link FILE_READ_BYTES} bytes of a file, as UTF-8. */
async function readStart(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(FILE_READ_BYTES);
    const { bytesRead } = await fh.read(buf, 0, FILE_READ_BYTES, 0);
    return buf.toString('utf8', 0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * A FILE_CHECK probe.
 * @param spec the check
 */
export function createFileProbe(spec: FileCheckSpec): Probe {
  return new FileProbe(spec);
}
