/**
 * @module dataplane/xdp/btf
 * Reads struct, enum and map layouts out of a BPF object's BTF, as dumped by
 * `bpftool btf dump file <obj> format raw -j`. Pure: takes the parsed JSON,
 * returns layouts. Used by the ABI generator (`make abi`) and by the test that
 * fails when bpf/xlb_abi.h and src/dataplane/xdp/abi.gen.ts drift apart.
 */

/** How a field is encoded. `be*` fields are network order, `u*` host order; `bytes` is a __u8 array, `u32s` a __u32 array. */
export type FieldKind = 'u8' | 'u16' | 'u32' | 'u64' | 'be16' | 'be32' | 'bytes' | 'u32s';

/** One member of a struct shared with the kernel. */
export interface FieldLayout {
  /** C member name */
  name: string;
  /** byte offset in the struct */
  offset: number;
  /** size in bytes (for arrays: the whole array) */
  size: number;
  /** encoding */
  kind: FieldKind;
  /** true for explicit padding members (`pad`, `pad2` ...): always written as zeros */
  pad: boolean;
}

/** A struct shared with the kernel. */
export interface StructLayout {
  /** C struct name, e.g. `xlb_vip_key` */
  name: string;
  /** sizeof */
  size: number;
  fields: FieldLayout[];
}

/** An enum shared with the kernel: name -> value. */
export interface EnumLayout {
  name: string;
  values: Record<string, number>;
}

/** A map declared in the object, with its key and value struct (or scalar) names. */
export interface MapLayout {
  name: string;
  /** BPF_MAP_TYPE_* number */
  type: number;
  /** struct name, or a scalar typedef such as `__u32` */
  key: string;
  value: string;
  /** max_entries declared in the object (the loader may override it) */
  maxEntries: number;
}

/** Everything the generator and the drift test need. */
export interface AbiLayout {
  structs: StructLayout[];
  enums: EnumLayout[];
  maps: MapLayout[];
}

interface BtfMember {
  name: string;
  type_id: number;
  bits_offset: number;
}
interface BtfType {
  id: number;
  kind: string;
  name?: string;
  type_id?: number;
  size?: number;
  members?: BtfMember[];
  values?: { name: string; val: number }[];
  nr_elems?: number;
  index_type_id?: number;
}

/** Error for BTF this reader cannot express (a bitfield, an unknown typedef...). */
export class BtfLayoutError extends Error {
  override name = 'BtfLayoutError';
}

const SCALARS: Record<string, FieldKind> = {
  __u8: 'u8',
  __u16: 'u16',
  __u32: 'u32',
  __u64: 'u64',
  __be16: 'be16',
  __be32: 'be32',
};

/**
 * Extract the `xlb_*` structs and enums, and every map, from bpftool's JSON.
 * @param json parsed output of `bpftool btf dump file <obj> format raw -j`
 * @param prefix only structs and enums whose name starts with this
 * @throws BtfLayoutError on a member type the ABI rules forbid
 */
export function layoutFromBtf(json: { types: BtfType[] }, prefix = 'xlb_'): AbiLayout {
  const byId = new Map<number, BtfType>();
  for (const t of json.types) byId.set(t.id, t);
  const get = (id: number): BtfType => {
    const t = byId.get(id);
    if (!t) throw new BtfLayoutError(`BTF type ${id} missing`);
    return t;
  };
  const skipQualifiers = (id: number): BtfType => {
    let t = get(id);
    while (t.kind === 'CONST' || t.kind === 'VOLATILE') t = get(t.type_id ?? 0);
    return t;
  };
  const sizeOf = (t: BtfType): number => {
    switch (t.kind) {
      case 'INT':
      case 'STRUCT':
      case 'UNION':
      case 'ENUM':
        return t.size ?? 0;
      case 'TYPEDEF':
      case 'CONST':
      case 'VOLATILE':
        return sizeOf(get(t.type_id ?? 0));
      case 'ARRAY':
        return (t.nr_elems ?? 0) * sizeOf(get(t.type_id ?? 0));
      default:
        throw new BtfLayoutError(`no size for BTF kind ${t.kind}`);
    }
  };

  const structs: StructLayout[] = [];
  const enums: EnumLayout[] = [];
  const maps: MapLayout[] = [];
  for (const t of json.types) {
    if (t.kind === 'STRUCT' && t.name?.startsWith(prefix)) {
      const fields = (t.members ?? []).map((m): FieldLayout => {
        if (m.bits_offset % 8 !== 0) throw new BtfLayoutError(`${t.name}.${m.name}: bitfields are not allowed`);
        const mt = get(m.type_id);
        let kind: FieldKind;
        if (mt.kind === 'ARRAY') {
          const elem = get(mt.type_id ?? 0);
          if (elem.name === '__u8') kind = 'bytes';
          else if (elem.name === '__u32') kind = 'u32s';
          else throw new BtfLayoutError(`${t.name}.${m.name}: only __u8 and __u32 arrays are allowed`);
        } else if (mt.kind === 'TYPEDEF' && mt.name && SCALARS[mt.name]) {
          kind = SCALARS[mt.name]!;
        } else if (mt.kind === 'ENUM') {
          kind = 'u32';
        } else {
          throw new BtfLayoutError(`${t.name}.${m.name}: use a fixed-width typedef (__u8 .. __u64, __be16, __be32)`);
        }
        return { name: m.name, offset: m.bits_offset / 8, size: sizeOf(mt), kind, pad: /^pad\d*$/.test(m.name) };
      });
      structs.push({ name: t.name, size: t.size ?? 0, fields });
    } else if (t.kind === 'ENUM' && t.name?.startsWith(prefix)) {
      const values: Record<string, number> = {};
      for (const v of t.values ?? []) values[v.name] = v.val;
      enums.push({ name: t.name, values });
    } else if (t.kind === 'VAR' && t.name) {
      const def = skipQualifiers(t.type_id ?? 0);
      if (def.kind !== 'STRUCT' || def.name) continue; // map definitions are anonymous structs
      const member = (n: string): BtfType | undefined => {
        const m = def.members?.find((x) => x.name === n);
        return m ? get(m.type_id) : undefined;
      };
      // __uint(x, N) is `int (*x)[N]`; __type(x, T) is `T *x`.
      const uintOf = (n: string): number => {
        const p = member(n);
        if (!p || p.kind !== 'PTR') return 0;
        return get(p.type_id ?? 0).nr_elems ?? 0;
      };
      const typeName = (n: string): string => {
        const p = member(n);
        if (!p || p.kind !== 'PTR') return '';
        return skipQualifiers(p.type_id ?? 0).name ?? '';
      };
      if (!member('type')) continue;
      maps.push({ name: t.name, type: uintOf('type'), key: typeName('key'), value: typeName('value'), maxEntries: uintOf('max_entries') });
    }
  }
  const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return { structs: structs.sort(byName), enums: enums.sort(byName), maps: maps.sort(byName) };
}
