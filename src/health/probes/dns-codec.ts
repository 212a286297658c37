/**
 * @module health/probes/dns-codec
 * DNS messages (RFC 1035 §4) as far as a health check needs them: encode a
 * query, decode a response with name compression, and the text form of the
 * record types a dns check can expect. Also encodes responses, for round-trip
 * tests and the test responder.
 *
 * Layer: pure codec (H-28, H-32): bytes <-> objects, no I/O. Decoders check
 * the length before every read and throw {@link CodecError}; the dns probe
 * turns that into a `protocol` failure. Names are written uncompressed.
 *
 * Name text: labels joined with `.`, no trailing dot, root = `.`; `.` and `\`
 * inside a label are escaped as `\.` `\\`, other bytes outside 0x21..0x7e as
 * `\DDD` (RFC 4343 §2.1 presentation format), so any wire name round-trips.
 */
import { CodecError } from '../../errors.js';
import { AF_INET, AF_INET6, formatAddr, parseAddr } from '../../net/addr.js';
import type { DnsType } from '../spec.js';

/** A decoded value and the bytes it took (H-32). */
export interface Decoded<T> {
  /** The decoded value. */
  value: T;
  /** Bytes it took in the input. */
  bytes: number;
}

/** RR TYPE values of the types a check can query (RFC 1035 §3.2.2, RFC 3596, RFC 2782). */
export const DNS_TYPE_CODES = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
} as const satisfies Record<DnsType, number>;

/** CLASS IN (RFC 1035 §3.2.4). */
export const DNS_CLASS_IN = 1;
/** Header length, bytes (RFC 1035 §4.1.1). */
export const DNS_HEADER_BYTES = 12;
/** Longest name on the wire, bytes (RFC 1035 §2.3.4). */
export const DNS_MAX_NAME_BYTES = 255;
/** Longest label, bytes (RFC 1035 §2.3.4). */
export const DNS_MAX_LABEL_BYTES = 63;
/** Compression pointers followed in one name at most; each must also point backwards (loop protection). */
const MAX_POINTERS = 64;

/** RCODE names (RFC 1035 §4.1.1, RFC 2136 §2.2). */
const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

/**
 * Name of an RCODE, `UNKNOWN_<n>` for unassigned ones (H-34).
 * @param rcode 0..15
 */
export function dnsRcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `UNKNOWN_${rcode}`;
}

/**
 * Name of an RR type, `UNKNOWN_<n>` for types this codec does not know (H-34).
 * @param type RR TYPE value
 */
export function dnsTypeName(type: number): string {
  for (const [name, code] of Object.entries(DNS_TYPE_CODES)) if (code === type) return name;
  return `UNKNOWN_${type}`;
}

/** One entry of the question section. */
export interface DnsQuestion {
  /** Name text (see the module comment). */
  name: string;
  /** RR TYPE. */
  type: number;
  /** CLASS, normally {@link DNS_CLASS_IN}. */
  class: number;
}

/** Decoded RDATA of the types this codec knows; anything else is `raw`. */
export type DnsRecordData =
  /** A, AAAA: canonical address text. */
  | { kind: 'address'; address: string }
  /** NS, CNAME, PTR. */
  | { kind: 'name'; name: string }
  | { kind: 'mx'; preference: number; exchange: string }
  /** TXT: the character-strings, decoded as UTF-8. */
  | { kind: 'txt'; strings: string[] }
  | { kind: 'soa'; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }
  | { kind: 'srv'; priority: number; weight: number; port: number; target: string }
  /** Any other type: the RDATA bytes as received. */
  | { kind: 'raw'; bytes: Uint8Array };

/** One resource record. */
export interface DnsRecord {
  /** Owner name text. */
  name: string;
  /** RR TYPE. */
  type: number;
  /** CLASS (for OPT: the UDP payload size). */
  class: number;
  /** TTL, seconds (for OPT: extended RCODE and flags). */
  ttl: number;
  /** Decoded RDATA. */
  data: DnsRecordData;
}

/** A DNS message. */
export interface DnsMessage {
  /** Query id. */
  id: number;
  /** Response (QR). */
  qr: boolean;
  /** OPCODE, 0 = QUERY. */
  opcode: number;
  /** Authoritative answer. */
  aa: boolean;
  /** Truncated. */
  tc: boolean;
  /** Recursion desired. */
  rd: boolean;
  /** Recursion available. */
  ra: boolean;
  /** Response code (the header's 4 bits). */
  rcode: number;
  /** Question section. */
  questions: DnsQuestion[];
  /** Answer section. */
  answers: DnsRecord[];
  /** Authority section. */
  authorities: DnsRecord[];
  /** Additional section (an EDNS OPT record decodes as `raw`). */
  additionals: DnsRecord[];
}

/**
 * A standard query (RD set, as keepalived sends): one question of class IN.
 * @param id query id, 0..65535
 * @param name query name text
 * @param type RR TYPE
 */
export function dnsQuery(id: number, name: string, type: number): DnsMessage {
  return {
    id,
    qr: false,
    opcode: 0,
    aa: false,
    tc: false,
    rd: true,
    ra: false,
    rcode: 0,
    questions: [{ name, type, class: DNS_CLASS_IN }],
    answers: [],
    authorities: [],
    additionals: [],
  };
}

// --- Names -----------------------------------------------------------------

/**
 * Split name text into label bytes, undoing `\.`, `\\` and `\DDD`.
 * @throws CodecError `XLB_ERR_CODEC_BAD_VALUE` for empty or long labels or names
 */
function nameLabels(name: string): Uint8Array[] {
  if (name === '.' || name === '') return [];
  const text = name.endsWith('.') && !name.endsWith('\\.') ? name.slice(0, -1) : name;
  const labels: Uint8Array[] = [];
  let cur: number[] = [];
  const bad = (why: string): CodecError => new CodecError('XLB_ERR_CODEC_BAD_VALUE', ['dns', 'name', `${JSON.stringify(name)} (${why})`, 0], 0);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (cur.length === 0) throw bad('empty label');
      labels.push(Uint8Array.from(cur));
      cur = [];
    } else if (c === 0x5c) {
      const d = /^[0-9]{3}/.exec(text.slice(i + 1, i + 4));
      if (d) {
        const v = Number(d[0]);
        if (v > 255) throw bad('bad \\DDD escape');
        cur.push(v);
        i += 3;
      } else {
        if (i + 1 >= text.length) throw bad('trailing backslash');
        cur.push(text.charCodeAt(++i) & 0xff);
      }
    } else if (c > 0x7e || c < 0x20) {
      throw bad('non-ASCII character; use punycode');
    } else {
      cur.push(c);
    }
    if (cur.length > DNS_MAX_LABEL_BYTES) throw bad(`label longer than ${DNS_MAX_LABEL_BYTES} bytes`);
  }
  if (cur.length === 0) throw bad('empty label');
  labels.push(Uint8Array.from(cur));
  const wire = labels.reduce((n, l) => n + 1 + l.length, 1);
  if (wire > DNS_MAX_NAME_BYTES) throw bad(`longer than ${DNS_MAX_NAME_BYTES} bytes`);
  return labels;
}

/** Uncompressed wire length of a name. */
function nameLength(name: string): number {
  return nameLabels(name).reduce((n, l) => n + 1 + l.length, 1);
}

/** Write a name uncompressed; returns the offset after it. */
function writeName(name: string, buf: Buffer, off: number): number {
  for (const l of nameLabels(name)) {
    buf[off++] = l.length;
    buf.set(l, off);
    off += l.length;
  }
  buf[off++] = 0;
  return off;
}

/** Presentation text of one label (RFC 4343 §2.1 escapes). */
function labelText(buf: Buffer, start: number, len: number): string {
  let s = '';
  for (let i = start; i < start + len; i++) {
    const c = buf[i]!;
    if (c === 0x2e || c === 0x5c) s += '\\' + String.fromCharCode(c);
    else if (c < 0x21 || c > 0x7e) s += '\\' + c.toString().padStart(3, '0');
    else s += String.fromCharCode(c);
  }
  return s;
}

/** Throw TRUNCATED when `need` bytes are not there at `off`. */
function need(buf: Buffer, off: number, n: number, field: string): void {
  if (off + n > buf.length) throw new CodecError('XLB_ERR_CODEC_TRUNCATED', ['dns', field, off], off);
}

/**
 * Decode a possibly compressed name (RFC 1035 §4.1.4).
 *
 * Loop protection: a pointer must point before the start of the labels that
 * led to it, so every jump goes strictly backwards (dns-packet's rule), and at
 * most {@link MAX_POINTERS} are followed. The name is at most 255 bytes.
 * @param buf the whole message (pointers are offsets into it)
 * @param offset where the name starts
 * @param field field name for errors
 * @returns the name text and the bytes it takes at `offset`
 * @throws CodecError TRUNCATED, BAD_VALUE (bad pointer or label type), BAD_LENGTH (name too long)
 */
export function decodeDnsName(buf: Buffer, offset: number, field = 'name'): Decoded<string> {
  const labels: string[] = [];
  let off = offset;
  let segmentStart = offset;
  let consumed = -1; // bytes at `offset`, fixed at the first pointer
  let wire = 1;
  let jumps = 0;
  for (;;) {
    need(buf, off, 1, field);
    const len = buf[off]!;
    if ((len & 0xc0) === 0xc0) {
      need(buf, off, 2, field);
      const ptr = ((len & 0x3f) << 8) | buf[off + 1]!;
      // "pointer to a prior occurrence of the same name" (RFC 1035 §4.1.4): only backwards.
      if (ptr >= segmentStart || ++jumps > MAX_POINTERS) {
        throw new CodecError('XLB_ERR_CODEC_BAD_VALUE', ['dns', `${field} pointer`, ptr, off], off);
      }
      if (consumed < 0) consumed = off + 2 - offset;
      off = ptr;
      segmentStart = ptr;
      continue;
    }
    if ((len & 0xc0) !== 0) {
      // 0x40 and 0x80: extended label types (RFC 6891 §5), not in use.
      throw new CodecError('XLB_ERR_CODEC_BAD_VALUE', ['dns', `${field} label type`, `0x${len.toString(16)}`, off], off);
    }
    if (len === 0) {
      if (consumed < 0) consumed = off + 1 - offset;
      break;
    }
    need(buf, off + 1, len, field);
    wire += 1 + len;
    if (wire > DNS_MAX_NAME_BYTES) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', ['dns', field, wire, off], off);
    labels.push(labelText(buf, off + 1, len));
    off += 1 + len;
  }
  return { value: labels.length === 0 ? '.' : labels.join('.'), bytes: consumed };
}

// --- Records ---------------------------------------------------------------

/** RDATA kind for a type. */
function kindOf(type: number): DnsRecordData['kind'] {
  switch (type) {
    case DNS_TYPE_CODES.A:
    case DNS_TYPE_CODES.AAAA:
      return 'address';
    case DNS_TYPE_CODES.NS:
    case DNS_TYPE_CODES.CNAME:
    case DNS_TYPE_CODES.PTR:
      return 'name';
    case DNS_TYPE_CODES.MX:
      return 'mx';
    case DNS_TYPE_CODES.TXT:
      return 'txt';
    case DNS_TYPE_CODES.SOA:
      return 'soa';
    case DNS_TYPE_CODES.SRV:
      return 'srv';
    default:
      return 'raw';
  }
}

/** Encoded length of RDATA. */
function rdataLength(r: DnsRecord): number {
  const d = r.data;
  switch (d.kind) {
    case 'address':
      return r.type === DNS_TYPE_CODES.AAAA ? 16 : 4;
    case 'name':
      return nameLength(d.name);
    case 'mx':
      return 2 + nameLength(d.exchange);
    case 'txt':
      return d.strings.reduce((n, s) => n + 1 + Buffer.byteLength(s, 'utf8'), 0);
    case 'soa':
      return nameLength(d.mname) + nameLength(d.rname) + 20;
    case 'srv':
      return 6 + nameLength(d.target);
    case 'raw':
      return d.bytes.length;
  }
}

/** Write RDATA; returns the offset after it. */
function writeRdata(r: DnsRecord, buf: Buffer, off: number): number {
  const d = r.data;
  const bad = (why: string): CodecError => new CodecError('XLB_ERR_CODEC_BAD_VALUE', ['dns', 'rdata', why, off], off);
  if (kindOf(r.type) !== d.kind) throw bad(`${d.kind} data for type ${dnsTypeName(r.type)}`);
  switch (d.kind) {
    case 'address': {
      const six = r.type === DNS_TYPE_CODES.AAAA;
      let a;
      try {
        a = parseAddr(d.address);
      } catch {
        throw bad(`address ${JSON.stringify(d.address)}`);
      }
      if (a.family !== (six ? AF_INET6 : AF_INET)) throw bad(`address ${JSON.stringify(d.address)} for type ${dnsTypeName(r.type)}`);
      buf.set(a.bytes.subarray(0, six ? 16 : 4), off);
      return off + (six ? 16 : 4);
    }
    case 'name':
      return writeName(d.name, buf, off);
    case 'mx':
      buf.writeUInt16BE(d.preference, off);
      return writeName(d.exchange, buf, off + 2);
    case 'txt':
      for (const s of d.strings) {
        const n = Buffer.byteLength(s, 'utf8');
        if (n > 255) throw bad('TXT string longer than 255 bytes');
        buf[off] = n;
        off += 1 + buf.write(s, off + 1, 'utf8');
      }
      return off;
    case 'soa':
      off = writeName(d.mname, buf, off);
      off = writeName(d.rname, buf, off);
      for (const v of [d.serial, d.refresh, d.retry, d.expire, d.minimum]) off = buf.writeUInt32BE(v, off);
      return off;
    case 'srv':
      off = buf.writeUInt16BE(d.priority, off);
      off = buf.writeUInt16BE(d.weight, off);
      off = buf.writeUInt16BE(d.port, off);
      return writeName(d.target, buf, off);
    case 'raw':
      buf.set(d.bytes, off);
      return off + d.bytes.length;
  }
}

/**
 * Decode RDATA of `type` at `off`, `len` bytes long. Names inside may point
 * anywhere before them in the message.
 */
function readRdata(buf: Buffer, type: number, off: number, len: number): DnsRecordData {
  const end = off + len;
  need(buf, off, len, 'rdata');
  const mustEnd = (at: number): void => {
    if (at !== end) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', ['dns', `${dnsTypeName(type)} rdata`, len, off], off);
  };
  switch (kindOf(type)) {
    case 'address': {
      const six = type === DNS_TYPE_CODES.AAAA;
      mustEnd(off + (six ? 16 : 4));
      const b = new Uint8Array(16);
      b.set(buf.subarray(off, end));
      return { kind: 'address', address: formatAddr(six ? AF_INET6 : AF_INET, b) };
    }
    case 'name': {
      const n = decodeDnsName(buf, off, 'rdata name');
      mustEnd(off + n.bytes);
      return { kind: 'name', name: n.value };
    }
    case 'mx': {
      need(buf, off, 2, 'MX preference');
      const n = decodeDnsName(buf, off + 2, 'MX exchange');
      mustEnd(off + 2 + n.bytes);
      return { kind: 'mx', preference: buf.readUInt16BE(off), exchange: n.value };
    }
    case 'txt': {
      const strings: string[] = [];
      let p = off;
      while (p < end) {
        const n = buf[p]!;
        if (p + 1 + n > end) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', ['dns', 'TXT string', n, p], p);
        strings.push(buf.toString('utf8', p + 1, p + 1 + n));
        p += 1 + n;
      }
      return { kind: 'txt', strings };
    }
    case 'soa': {
      const m = decodeDnsName(buf, off, 'SOA mname');
      const r = decodeDnsName(buf, off + m.bytes, 'SOA rname');
      const p = off + m.bytes + r.bytes;
      mustEnd(p + 20);
      return {
        kind: 'soa',
        mname: m.value,
        rname: r.value,
        serial: buf.readUInt32BE(p),
        refresh: buf.readUInt32BE(p + 4),
        retry: buf.readUInt32BE(p + 8),
        expire: buf.readUInt32BE(p + 12),
        minimum: buf.readUInt32BE(p + 16),
      };
    }
    case 'srv': {
      need(buf, off, 6, 'SRV fields');
      const t = decodeDnsName(buf, off + 6, 'SRV target');
      mustEnd(off + 6 + t.bytes);
      return { kind: 'srv', priority: buf.readUInt16BE(off), weight: buf.readUInt16BE(off + 2), port: buf.readUInt16BE(off + 4), target: t.value };
    }
    case 'raw':
      return { kind: 'raw', bytes: Uint8Array.from(buf.subarray(off, end)) };
  }
}

/** Decode one resource record (RFC 1035 §4.1.3). */
function readRecord(buf: Buffer, off: number, section: string): Decoded<DnsRecord> {
  const name = decodeDnsName(buf, off, `${section} name`);
  let p = off + name.bytes;
  need(buf, p, 10, `${section} fixed fields`);
  const type = buf.readUInt16BE(p);
  const cls = buf.readUInt16BE(p + 2);
  const ttl = buf.readUInt32BE(p + 4);
  const rdlen = buf.readUInt16BE(p + 8);
  p += 10;
  const data = readRdata(buf, type, p, rdlen);
  return { value: { name: name.value, type, class: cls, ttl, data }, bytes: p + rdlen - off };
}

/**
 * Text a dns check compares its `expect` entries with: the address for
 * A/AAAA; the name for NS/CNAME/PTR; the exchange for MX; the strings joined
 * for TXT; the primary server (mname) for SOA; the target for SRV; hex for
 * anything else.
 * @param r a record
 */
export function dnsRecordText(r: DnsRecord): string {
  const d = r.data;
  switch (d.kind) {
    case 'address':
      return d.address;
    case 'name':
      return d.name;
    case 'mx':
      return d.exchange;
    case 'txt':
      return d.strings.join('');
    case 'soa':
      return d.mname;
    case 'srv':
      return d.target;
    case 'raw':
      return Buffer.from(d.bytes).toString('hex');
  }
}

// --- Messages --------------------------------------------------------------

/**
 * Encoded length of a message (names uncompressed).
 * @param m the message
 * @throws CodecError BAD_VALUE for names that cannot be encoded
 */
export function dnsMessageLength(m: DnsMessage): number {
  let n = DNS_HEADER_BYTES;
  for (const q of m.questions) n += nameLength(q.name) + 4;
  for (const r of [...m.answers, ...m.authorities, ...m.additionals]) n += nameLength(r.name) + 10 + rdataLength(r);
  return n;
}

/**
 * Encode a message (names uncompressed).
 * @param m the message
 * @param buf where to write; allocated when absent
 * @param offset where in `buf`
 * @returns `buf` (or the new buffer)
 * @throws CodecError BAD_VALUE (bad name, address, rdata kind) or BAD_LENGTH (no room)
 */
export function encodeDnsMessage(m: DnsMessage, buf?: Buffer, offset = 0): Buffer {
  const len = dnsMessageLength(m);
  const out = buf ?? Buffer.alloc(len);
  if (offset + len > out.length) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', ['dns', 'output buffer', out.length, offset], offset);
  let flags = (m.opcode & 0xf) << 11;
  if (m.qr) flags |= 0x8000;
  if (m.aa) flags |= 0x0400;
  if (m.tc) flags |= 0x0200;
  if (m.rd) flags |= 0x0100;
  if (m.ra) flags |= 0x0080;
  flags |= m.rcode & 0xf;
  let off = offset;
  off = out.writeUInt16BE(m.id & 0xffff, off);
  off = out.writeUInt16BE(flags, off);
  for (const n of [m.questions.length, m.answers.length, m.authorities.length, m.additionals.length]) off = out.writeUInt16BE(n, off);
  for (const q of m.questions) {
    off = writeName(q.name, out, off);
    off = out.writeUInt16BE(q.type, off);
    off = out.writeUInt16BE(q.class, off);
  }
  for (const r of [...m.answers, ...m.authorities, ...m.additionals]) {
    off = writeName(r.name, out, off);
    off = out.writeUInt16BE(r.type, off);
    off = out.writeUInt16BE(r.class, off);
    off = out.writeUInt32BE(r.ttl >>> 0, off);
    const rdStart = off + 2;
    const rdEnd = writeRdata(r, out, rdStart);
    out.writeUInt16BE(rdEnd - rdStart, off);
    off = rdEnd;
  }
  return out;
}

/**
 * Decode a message (RFC 1035 §4.1). Every section is decoded, so a malformed
 * record anywhere fails the whole message. Bytes after the last record are
 * not read (`bytes` says where the message ended).
 * @param buf the datagram
 * @param offset where the message starts (compression pointers are relative to it)
 * @throws CodecError TRUNCATED, BAD_VALUE, BAD_LENGTH
 */
export function decodeDnsMessage(buf: Buffer, offset = 0): Decoded<DnsMessage> {
  const b = offset === 0 ? buf : buf.subarray(offset);
  need(b, 0, DNS_HEADER_BYTES, 'header');
  const flags = b.readUInt16BE(2);
  const m: DnsMessage = {
    id: b.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
  };
  const qd = b.readUInt16BE(4);
  let off = DNS_HEADER_BYTES;
  for (let i = 0; i < qd; i++) {
    const n = decodeDnsName(b, off, `question[${i}] name`);
    off += n.bytes;
    need(b, off, 4, `question[${i}] type`);
    m.questions.push({ name: n.value, type: b.readUInt16BE(off), class: b.readUInt16BE(off + 2) });
    off += 4;
  }
  const sections: [DnsRecord[], string, number][] = [
    [m.answers, 'answer', b.readUInt16BE(6)],
    [m.authorities, 'authority', b.readUInt16BE(8)],
    [m.additionals, 'additional', b.readUInt16BE(10)],
  ];
  for (const [list, name, count] of sections) {
    for (let i = 0; i < count; i++) {
      const r = readRecord(b, off, `${name}[${i}]`);
      list.push(r.value);
      off += r.bytes;
    }
  }
  return { value: m, bytes: off };
}
