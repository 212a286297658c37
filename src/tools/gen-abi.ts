/**
 * @module tools/gen-abi
 * `make abi`: generates src/dataplane/xdp/abi.gen.ts from the BTF of the
 * compiled BPF object, with the field comments of bpf/xlb_abi.h copied in.
 * Usage: node dist/src/tools/gen-abi.js <obj.o> <xlb_abi.h> <out.ts>
 * Build tool: runs bpftool, reads and writes files.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { layoutFromBtf, type AbiLayout, type FieldLayout, type StructLayout } from '../dataplane/xdp/btf.js';

/** Dump an object's BTF as bpftool's JSON. */
export function dumpBtf(obj: string): { types: never[] } {
  const out = execFileSync('bpftool', ['btf', 'dump', 'file', obj, 'format', 'raw', '-j'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(out) as { types: never[] };
}

/** Comments of the header: `struct.field` and `struct` (the comment above it) -> text. */
export function headerComments(header: string): Map<string, string> {
  const docs = new Map<string, string>();
  const lines = header.split('\n');
  let current: string | null = null;
  let above: string | null = null;
  for (const line of lines) {
    const lead = /^\/\*\s*(.*?)\s*\*\/\s*$/.exec(line);
    if (lead) {
      above = lead[1] ?? null;
      continue;
    }
    const open = /^(struct|enum)\s+(xlb_\w+)\s*\{/.exec(line);
    if (open) {
      current = open[2] ?? null;
      if (current && above) docs.set(current, above);
      above = null;
      continue;
    }
    if (/^\};/.test(line)) {
      current = null;
      continue;
    }
    if (!current) {
      if (line.trim() !== '') above = null;
      continue;
    }
    const member = /^\s+(?:__\w+|enum \w+)\s+(\w+)(?:\[\w+\])?;\s*\/\*\s*(.*?)\s*\*\/\s*$/.exec(line);
    if (member) docs.set(`${current}.${member[1]}`, member[2] ?? '');
    const enumerator = /^\s+(XLB_\w+)\s*=\s*[^,]+,\s*\/\*\s*(.*?)\s*\*\/\s*$/.exec(line);
    if (enumerator) docs.set(`${current}.${enumerator[1]}`, enumerator[2] ?? '');
  }
  return docs;
}

/** `xlb_vip_key` -> `XlbVipKey` */
export function pascal(name: string): string {
  return name.replace(/(^|_)([a-z0-9])/g, (_m, _s: string, c: string) => c.toUpperCase());
}

/** `tun_src4` -> `tunSrc4` */
export function camel(name: string): string {
  const p = pascal(name);
  return p.charAt(0).toLowerCase() + p.slice(1);
}

function tsType(f: FieldLayout): string {
  return f.kind === 'bytes' ? 'Uint8Array' : f.kind === 'u32s' ? 'Uint32Array' : f.kind === 'u64' ? 'bigint' : 'number';
}

function reader(f: FieldLayout): string {
  switch (f.kind) {
    case 'u8':
      return `b.readUInt8(o + ${f.offset})`;
    case 'u16':
      return `rdU16(b, o + ${f.offset})`;
    case 'u32':
      return `rdU32(b, o + ${f.offset})`;
    case 'u64':
      return `rdU64(b, o + ${f.offset})`;
    case 'be16':
      return `b.readUInt16BE(o + ${f.offset})`;
    case 'be32':
      return `b.readUInt32BE(o + ${f.offset})`;
    case 'bytes':
      return `new Uint8Array(b.subarray(o + ${f.offset}, o + ${f.offset + f.size}))`;
    case 'u32s':
      return `Uint32Array.from({ length: ${f.size / 4} }, (_, i) => rdU32(b, o + ${f.offset} + 4 * i))`;
  }
}

function writer(f: FieldLayout, v: string, sname: string): string {
  switch (f.kind) {
    case 'u8':
      return `b.writeUInt8(${v}, o + ${f.offset})`;
    case 'u16':
      return `wrU16(b, o + ${f.offset}, ${v})`;
    case 'u32':
      return `wrU32(b, o + ${f.offset}, ${v})`;
    case 'u64':
      return `wrU64(b, o + ${f.offset}, ${v})`;
    case 'be16':
      return `b.writeUInt16BE(${v}, o + ${f.offset})`;
    case 'be32':
      return `b.writeUInt32BE(${v}, o + ${f.offset})`;
    case 'bytes':
      return `wrBytes(b, o + ${f.offset}, ${f.size}, ${v}, '${sname}.${f.name}')`;
    case 'u32s':
      return `wrU32s(b, o + ${f.offset}, ${f.size / 4}, ${v}, '${sname}.${f.name}')`;
  }
}

function structCode(s: StructLayout, docs: Map<string, string>): string {
  const T = pascal(s.name);
  const real = s.fields.filter((f) => !f.pad);
  const out: string[] = [];
  out.push(`/** ${docs.get(s.name) ?? `struct ${s.name}`} (struct ${s.name}, ${s.size} bytes) */`);
  out.push(`export interface ${T} {`);
  for (const f of real) {
    const d = docs.get(`${s.name}.${f.name}`);
    const dims = f.kind === 'bytes' ? `[${f.size}]` : f.kind === 'u32s' ? `[${f.size / 4}]` : '';
    out.push(`  /** ${d ? `${d} ` : ''}(${f.kind}${dims} at ${f.offset}) */`);
    out.push(`  ${camel(f.name)}: ${tsType(f)};`);
  }
  out.push('}');
  out.push(`export const ${s.name.toUpperCase()}_SIZE = ${s.size};`);
  out.push(`export const ${camel(s.name)}Layout: StructLayout = ${JSON.stringify(s)};`);
  out.push(`/** Encode ${T} into exactly ${s.size} bytes (padding zeroed). */`);
  out.push(`export function encode${T}(v: ${T}, buf?: Buffer, offset = 0): Buffer {`);
  out.push(`  const b = buf ?? Buffer.alloc(${s.size});`);
  out.push('  const o = offset;');
  if (buf0(s)) out.push(`  b.fill(0, o, o + ${s.size});`);
  for (const f of real) out.push(`  ${writer(f, `v.${camel(f.name)}`, s.name)};`);
  out.push('  return b;');
  out.push('}');
  out.push(`/** Decode ${T} from ${s.size} bytes at offset. */`);
  out.push(`export function decode${T}(b: Buffer, offset = 0): ${T} {`);
  out.push(`  if (b.length < offset + ${s.size}) throw new RangeError('${s.name}: need ${s.size} bytes at offset ' + offset + ', have ' + (b.length - offset));`);
  out.push('  const o = offset;');
  out.push('  return {');
  for (const f of real) out.push(`    ${camel(f.name)}: ${reader(f)},`);
  out.push('  };');
  out.push('}');
  return out.join('\n');
}

function buf0(s: StructLayout): boolean {
  return s.fields.some((f) => f.pad) || s.fields.reduce((n, f) => n + f.size, 0) !== s.size;
}

/** The text of abi.gen.ts for a layout. */
export function generate(layout: AbiLayout, docs: Map<string, string>, abiVersion: number, source: string): string {
  const parts: string[] = [];
  parts.push(`// Generated by src/tools/gen-abi.ts from ${source} (BTF) and bpf/xlb_abi.h. DO NOT EDIT: run \`make abi\`.`);
  parts.push(`import { rdU16, rdU32, rdU64, wrU16, wrU32, wrU64, wrBytes, wrU32s, enumName } from './abi-runtime.js';`);
  parts.push(`import type { StructLayout, EnumLayout, MapLayout } from './btf.js';`);
  parts.push('// Some generated readers/writers are unused by some structs.');
  parts.push('void rdU16; void rdU32; void rdU64; void wrU16; void wrU32; void wrU64; void wrBytes; void wrU32s;');
  parts.push('');
  parts.push(`/** XLB_ABI_VERSION of bpf/xlb_abi.h; also in the object's .rodata as xlb_abi_version. */`);
  parts.push(`export const XLB_ABI_VERSION = ${abiVersion};`);
  parts.push('');
  for (const e of layout.enums) {
    const T = pascal(e.name);
    const prefix = commonPrefix(Object.keys(e.values));
    parts.push(`/** enum ${e.name} */`);
    parts.push(`export const ${T} = {`);
    for (const [k, v] of Object.entries(e.values)) {
      const d = docs.get(`${e.name}.${k}`);
      if (d) parts.push(`  /** ${d} */`);
      parts.push(`  ${k}: ${v},`);
    }
    parts.push('} as const;');
    parts.push(`export type ${T} = (typeof ${T})[keyof typeof ${T}];`);
    parts.push(`/** Name of a ${e.name} value; unknown values become ${prefix}<n>. */`);
    parts.push(`export function ${camel(e.name)}Name(v: number): string {`);
    parts.push(`  return enumName(${T}, '${prefix.replace(/_$/, '')}', v);`);
    parts.push('}');
    parts.push('');
  }
  for (const s of layout.structs) {
    if (s.name === 'xlb_abi_enums') continue;
    parts.push(structCode(s, docs));
    parts.push('');
  }
  parts.push('/** Every shared struct, for the drift test and the loader\'s size checks. */');
  parts.push(`export const STRUCTS: readonly StructLayout[] = [${layout.structs.filter((s) => s.name !== 'xlb_abi_enums').map((s) => `${camel(s.name)}Layout`).join(', ')}];`);
  parts.push(`export const ENUMS: readonly EnumLayout[] = ${JSON.stringify(layout.enums)};`);
  parts.push(`/** Maps of the object: key/value type names and declared max_entries. */`);
  parts.push(`export const MAPS: readonly MapLayout[] = ${JSON.stringify(layout.maps.filter((m) => m.name.startsWith('xlb_')))};`);
  return parts.join('\n') + '\n';
}

function commonPrefix(names: string[]): string {
  if (names.length === 0) return '';
  let p = names[0] ?? '';
  if (names.length === 1) return p.split('_').slice(0, 2).join('_') + '_'; // XLB_G_TUN_SRC_ENTROPY -> XLB_G_
  for (const n of names) while (!n.startsWith(p)) p = p.slice(0, -1);
  const cut = p.lastIndexOf('_');
  return cut >= 0 ? p.slice(0, cut + 1) : p;
}

function main(argv: string[]): void {
  const [obj, header, out] = argv;
  if (!obj || !header || !out) {
    process.stderr.write('usage: gen-abi <obj.o> <xlb_abi.h> <out.ts>\n');
    process.exit(2);
  }
  const headerText = readFileSync(header, 'utf8');
  const ver = /#define XLB_ABI_VERSION (\d+)/.exec(headerText);
  if (!ver) throw new Error(`${header}: no XLB_ABI_VERSION`);
  const layout = layoutFromBtf(dumpBtf(obj));
  for (const e of ['xlb_family', 'xlb_mode', 'xlb_reason', 'xlb_vip_flags', 'xlb_backend_flags', 'xlb_global_flags']) {
    if (!layout.enums.some((x) => x.name === e)) throw new Error(`${obj}: enum ${e} missing from BTF (is it anchored in xlb_abi_enums?)`);
  }
  writeFileSync(out, generate(layout, headerComments(headerText), Number(ver[1] ?? 0), 'bpf/.output/xlb.bpf.o'));
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) main(process.argv.slice(2));
