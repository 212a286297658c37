/**
 * @module net/addr
 * IP address text <-> bytes, in the 16-byte form the BPF maps use (IPv4 in
 * the first 4 bytes, zeros after). Pure; no I/O.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** AF_INET / AF_INET6 as stored in xlb map keys. */
export const AF_INET = 2;
export const AF_INET6 = 10;

/** An address as the data path stores it. */
export interface AddrKey {
  /** AF_INET (2) or AF_INET6 (10) */
  family: number;
  /** 16 bytes, network order; IPv4 in bytes 0..3 */
  bytes: Uint8Array;
}

/**
 * Parse an IPv4 or IPv6 address.
 * @throws TypeError if `s` is neither
 */
export function parseAddr(s: string): AddrKey {
  const bytes = new Uint8Array(16);
  if (isIPv4(s)) {
    s.split('.').forEach((p, i) => (bytes[i] = Number(p)));
    return { family: AF_INET, bytes };
  }
  if (!isIPv6(s)) throw new TypeError(`not an IP address: ${JSON.stringify(s)}`);
  let text = s;
  // a trailing dotted quad (::ffff:1.2.3.4) becomes two hex groups
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted && dotted[1]) {
    const q = dotted[1].split('.').map(Number);
    text = text.slice(0, -dotted[1].length) + `${((q[0]! << 8) | q[1]!).toString(16)}:${((q[2]! << 8) | q[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    bytes[i * 2] = v >> 8;
    bytes[i * 2 + 1] = v & 0xff;
  });
  return { family: AF_INET6, bytes };
}

/** Format 16 key bytes of the given family as text (IPv6 in RFC 5952 short form). */
export function formatAddr(family: number, b: Uint8Array): string {
  if (family === AF_INET) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  // longest run of zero groups (length >= 2) becomes '::'
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}
