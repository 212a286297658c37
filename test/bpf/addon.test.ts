// Root-tier tests of the native addon (native/, src/native/binding.ts)
// against bpf/test/addon_test.bpf.c and bpf/test/addon_bad.bpf.c.
//
// Needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN for setns): every test is
// skipped otherwise. Everything the test makes carries the test's pid:
//   pins     /sys/fs/bpf/xlb-test-<pid>/   (bpffs is mounted if it is not)
//   netns    xlbt-addon-<pid>, holding the veth pair xa <-> xb
// and is removed in after(), even when a test fails. Nothing is added to the
// root network namespace.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  BPF_MAP_FLAG,
  BPF_MAP_TYPE,
  BPF_UPDATE,
  native,
  XDP_ACTION,
  type NativeAddon,
  type NativeBpfObject,
} from '../../src/native/binding.js';
import { splitPerCpu, sumPerCpu } from '../../src/native/percpu.js';
import { rootTestFor, sh } from '../support/root-tier.js';

const IS_ROOT = process.getuid?.() === 0;
const PID = process.pid;
const PIN_DIR = `/sys/fs/bpf/xlb-test-${PID}`;
const NETNS = `xlbt-addon-${PID}`;
const NETNS_PATH = `/var/run/netns/${NETNS}`;
/** statfs f_type of bpffs (include/uapi/linux/magic.h) */
const BPF_FS_MAGIC = 0xcafe4a11;

/** Project root: the nearest ancestor with bpf/test/addon_test.bpf.c (works from test/ and dist/test/). */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'bpf/test/addon_test.bpf.c'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('project root not found');
    dir = up;
  }
  return dir;
}
const ROOT = projectRoot();

/** bpf/.output/<name>.bpf.o, compiled from bpf/test/<name>.bpf.c when missing or stale. */
function testObject(name: string): string {
  const src = join(ROOT, 'bpf/test', `${name}.bpf.c`);
  const obj = join(ROOT, 'bpf/.output', `${name}.bpf.o`);
  if (!existsSync(obj) || statSync(obj).mtimeMs < statSync(src).mtimeMs) {
    mkdirSync(dirname(obj), { recursive: true });
    execFileSync('clang', ['-g', '-O2', '-target', 'bpf', '-D__TARGET_ARCH_x86', '-I/usr/include/x86_64-linux-gnu', '-c', src, '-o', obj]);
  }
  return obj;
}

/** A u32 in host byte order (array keys, test-program fields). */
function u32(n: number): Buffer {
  return Buffer.from(new Uint32Array([n]).buffer);
}
function readU32(b: Buffer, at: number): number {
  return new Uint32Array(b.buffer.slice(b.byteOffset + at, b.byteOffset + at + 4))[0]!;
}
/** A 20-byte addon_hash key whose fields are derived from n. */
function hashKey(n: number): Buffer {
  const k = Buffer.alloc(20);
  k.set(u32(n), 0);
  k.set(u32(n * 7), 4);
  k.fill(n & 0xff, 8);
  return k;
}
function u64(n: bigint): Buffer {
  return Buffer.from(new BigUint64Array([n]).buffer);
}

const rootTest = rootTestFor('needs root (CAP_BPF)');

/** Runs fn with the main thread in the test's netns. */
function inNetns<T>(addon: NativeAddon, fn: () => T): T {
  const back = addon.enterNetns(NETNS_PATH);
  try {
    return fn();
  } finally {
    addon.restoreNetns(back);
  }
}

/** Error with the addon's system-error shape. */
function sysErr(code: string | RegExp, syscall: string): (e: unknown) => boolean {
  return (e: unknown): boolean => {
    assert.ok(e instanceof Error);
    const o = e as Error & { code?: unknown; errno?: unknown; syscall?: unknown };
    if (typeof code === 'string') assert.equal(o.code, code);
    else assert.match(String(o.code), code);
    assert.equal(o.syscall, syscall);
    assert.equal(typeof o.errno, 'number');
    assert.ok((o.errno as number) < 0, 'errno is negative (Node convention)');
    assert.ok(e.message.startsWith(`${syscall} failed: `), e.message);
    return true;
  };
}

describe('native addon (root)', () => {
  let addon: NativeAddon;
  let OBJ: string;
  let BAD: string;
  let obj: NativeBpfObject; // addon_hash resized to 128, NO_PREALLOC; knob 0; loaded
  const open: NativeBpfObject[] = [];

  before(() => {
    if (!IS_ROOT) return;
    addon = native();
    OBJ = testObject('addon_test');
    BAD = testObject('addon_bad');
    if (statfsSync('/sys/fs/bpf').type !== BPF_FS_MAGIC) sh('mount', '-t', 'bpf', 'bpf', '/sys/fs/bpf');
    mkdirSync(PIN_DIR, { recursive: true });
    sh('ip', 'netns', 'add', NETNS);
    sh('ip', '-n', NETNS, 'link', 'add', 'xa', 'type', 'veth', 'peer', 'name', 'xb');
    sh('ip', '-n', NETNS, 'link', 'set', 'xa', 'up');
    sh('ip', '-n', NETNS, 'link', 'set', 'xb', 'up');
  });

  after(() => {
    if (!IS_ROOT) return;
    for (const o of open) o.close();
    try {
      sh('ip', 'netns', 'del', NETNS);
    } catch {
      /* not created */
    }
    rmSync(PIN_DIR, { recursive: true, force: true });
  });

  function openObj(path = OBJ): NativeBpfObject {
    const o = new addon.BpfObject(path);
    open.push(o);
    return o;
  }

  rootTest('module functions: possibleCpus, libbpfVersion', () => {
    assert.ok(Number.isInteger(addon.possibleCpus()) && addon.possibleCpus() >= 1);
    assert.match(addon.libbpfVersion(), /^v?\d+\.\d+/);
  });

  rootTest('open: name, maps, programs', () => {
    const o = openObj();
    assert.equal(o.name, 'addon_test');
    for (const m of ['addon_hash', 'addon_lru', 'addon_counters', 'addon_mmap']) assert.ok(o.mapNames().includes(m), m);
    assert.ok(o.mapNames().some((n) => n.endsWith('.rodata')));
    assert.deepEqual(o.programNames(), ['addon_xdp', 'addon_xdp_drop', 'addon_grow']);
    o.close();
    o.close(); // idempotent
    assert.throws(() => o.mapNames(), { message: 'bpfObject.mapNames: object is closed' });
  });

  rootTest('open errors: ENOENT with path', () => {
    assert.throws(() => new addon.BpfObject('/nonexistent/x.bpf.o'), (e: unknown) => {
      sysErr('ENOENT', 'bpf_object__open_file')(e);
      assert.equal((e as { path?: string }).path, '/nonexistent/x.bpf.o');
      return true;
    });
  });

  rootTest('configure before load, then load: setMapMaxEntries, setMapFlags, setGlobal', () => {
    obj = openObj();
    obj.setMapMaxEntries('addon_hash', 128);
    obj.setMapFlags('addon_hash', BPF_MAP_FLAG.NO_PREALLOC);
    obj.setGlobal('addon_knob', u32(0));
    obj.setGlobal('addon_magic', u32(0xa1b2c3d4)); // .data
    obj.setGlobal('addon_runs', u32(0)); // .bss
    assert.throws(() => obj.setGlobal('addon_knob', Buffer.alloc(8)), {
      name: 'TypeError',
      message: "bpfObject.setGlobal: value for 'addon_knob' must be a Buffer of 4 bytes",
    });
    assert.throws(() => obj.setGlobal('no_such_var', u32(1)), sysErr('ENOENT', 'btf__find_by_name_kind'));
    assert.throws(() => obj.setGlobal('addon_hash', u32(1)), sysErr('ENOENT', 'btf__find_by_name_kind')); // a .maps var
    assert.throws(() => obj.setMapMaxEntries('no_such_map', 1), sysErr('ENOENT', 'bpf_object__find_map_by_name'));
    assert.throws(() => obj.map('addon_hash'), { message: 'bpfObject.map: object is not loaded' });
    obj.load();
    assert.throws(() => obj.load(), { message: 'bpfObject.load: object is already loaded' });
    assert.throws(() => obj.setGlobal('addon_knob', u32(1)), { message: 'bpfObject.setGlobal: object is already loaded' });
    assert.throws(() => obj.setMapMaxEntries('addon_hash', 8), { message: 'bpfObject.setMapMaxEntries: object is already loaded' });

    const h = obj.map('addon_hash');
    assert.deepEqual(
      [h.name, h.type, h.keySize, h.valueSize, h.maxEntries, h.flags, h.perCpu, h.valueBufferSize],
      ['addon_hash', BPF_MAP_TYPE.HASH, 20, 8, 128, BPF_MAP_FLAG.NO_PREALLOC, false, 8],
    );
    assert.ok(h.fd > 2);
    const c = obj.map('addon_counters');
    assert.equal(c.type, BPF_MAP_TYPE.PERCPU_ARRAY);
    assert.equal(c.perCpu, true);
    assert.equal(c.valueSize, 12);
    assert.equal(c.valueBufferSize, addon.possibleCpus() * 16);
    assert.equal(obj.map('addon_mmap').flags, BPF_MAP_FLAG.MMAPABLE);
    assert.equal(obj.map('addon_lru').type, BPF_MAP_TYPE.LRU_HASH);
    assert.ok(obj.programFd('addon_xdp') > 2);
    assert.throws(() => obj.programFd('nope'), sysErr('ENOENT', 'bpf_object__find_program_by_name'));
  });

  rootTest('hash map: update, lookup, delete, nextKey, flags', () => {
    const h = obj.map('addon_hash');
    assert.equal(h.lookup(hashKey(1)), null);
    h.update(hashKey(1), u64(11n));
    h.update(hashKey(2), u64(22n), BPF_UPDATE.NOEXIST);
    assert.deepEqual(h.lookup(hashKey(1)), u64(11n));
    assert.throws(() => h.update(hashKey(2), u64(0n), BPF_UPDATE.NOEXIST), sysErr('EEXIST', 'bpf_map_update_elem'));
    assert.throws(() => h.update(hashKey(3), u64(0n), BPF_UPDATE.EXIST), sysErr('ENOENT', 'bpf_map_update_elem'));
    h.update(hashKey(2), u64(23n), BPF_UPDATE.EXIST);
    assert.deepEqual(h.lookup(hashKey(2)), u64(23n));

    const seen: string[] = [];
    for (let k = h.nextKey(null); k !== null; k = h.nextKey(k)) seen.push(k.toString('hex'));
    assert.deepEqual(seen.sort(), [hashKey(1), hashKey(2)].map((k) => k.toString('hex')).sort());

    assert.equal(h.delete(hashKey(1)), true);
    assert.equal(h.delete(hashKey(1)), false);
    assert.equal(h.lookup(hashKey(1)), null);
    h.delete(hashKey(2));
    assert.equal(h.nextKey(null), null);
  });

  rootTest('argument checks: precise TypeErrors', () => {
    const h = obj.map('addon_hash');
    assert.throws(() => h.update(Buffer.alloc(4), u64(1n)), { name: 'TypeError', message: 'bpfMap.update: key must be a Buffer of 20 bytes' });
    assert.throws(() => h.update(hashKey(1), Buffer.alloc(4)), { name: 'TypeError', message: 'bpfMap.update: value must be a Buffer of 8 bytes' });
    assert.throws(() => h.lookup('x' as unknown as Buffer), { name: 'TypeError', message: 'bpfMap.lookup: key must be a Buffer of 20 bytes' });
    assert.throws(() => h.updateBatch(Buffer.alloc(20), Buffer.alloc(8), 2), { name: 'TypeError', message: 'bpfMap.updateBatch: keys must be a Buffer of 40 bytes' });
    assert.throws(() => h.lookupBatch(Buffer.alloc(20), 4), { name: 'TypeError', message: 'bpfMap.lookupBatch: inBatch must be a Buffer of 4 bytes' });
    assert.throws(() => obj.attachXdp('addon_xdp', 1, 'fast' as 'auto'), { name: 'TypeError', message: "bpfObject.attachXdp: mode must be 'native', 'generic' or 'auto'" });
    assert.throws(() => obj.testRun('addon_xdp', { data: 'x' as unknown as Buffer }), { name: 'TypeError', message: 'bpfObject.testRun: opts.data must be a Buffer' });
    assert.throws(() => new (addon.BpfMap as unknown as new () => unknown)(), TypeError);
  });

  rootTest('batch ops: hash update/lookup walk/delete, array walk', () => {
    const h = obj.map('addon_hash');
    const n = 40;
    const keys = Buffer.concat(Array.from({ length: n }, (_, i) => hashKey(100 + i)));
    const values = Buffer.concat(Array.from({ length: n }, (_, i) => u64(BigInt(1000 + i))));
    assert.equal(h.updateBatch(keys, values, n), n);
    // The kernel takes only BPF_ANY (or BPF_F_LOCK) for batches (generic_map_update_batch).
    assert.throws(() => h.updateBatch(keys.subarray(0, 20), values.subarray(0, 8), 1, BPF_UPDATE.NOEXIST), sysErr('EINVAL', 'bpf_map_update_batch'));

    // Walk in chunks; hash batches are bucket-granular, so chunks vary in size.
    const got = new Map<string, bigint>();
    let token: Buffer | null = null;
    let calls = 0;
    do {
      const r = h.lookupBatch(token, 16);
      assert.equal(r.keys.length, r.count * 20);
      assert.equal(r.values.length, r.count * 8);
      for (let i = 0; i < r.count; i++) got.set(r.keys.subarray(i * 20, i * 20 + 20).toString('hex'), r.values.readBigUInt64LE(i * 8));
      if (r.nextBatch !== null) assert.equal(r.nextBatch.length, 4);
      token = r.nextBatch;
      calls++;
    } while (token !== null && calls < 100);
    assert.equal(token, null);
    assert.ok(calls >= 3, `walked in ${calls} calls`);
    assert.equal(got.size, n);
    for (let i = 0; i < n; i++) assert.equal(got.get(hashKey(100 + i).toString('hex')), BigInt(1000 + i));

    assert.equal(h.deleteBatch(keys.subarray(0, 10 * 20), 10), 10);
    assert.equal(h.lookup(hashKey(100)), null);
    assert.deepEqual(h.lookup(hashKey(110)), u64(1010n));
    assert.throws(() => h.deleteBatch(keys.subarray(0, 20), 1), sysErr('ENOENT', 'bpf_map_delete_batch'));
    assert.equal(h.deleteBatch(keys.subarray(10 * 20), n - 10), n - 10);
    assert.equal(h.nextKey(null), null);

    // Arrays: the token is the last key (4 bytes here); ENOENT ends the walk.
    const a = obj.map('addon_mmap');
    assert.equal(a.updateBatch(Buffer.concat([u32(0), u32(1), u32(2), u32(3)]), Buffer.concat([u32(5), u32(6), u32(7), u32(8)]), 4), 4);
    const first = a.lookupBatch(null, 3);
    assert.equal(first.count, 3);
    assert.deepEqual(first.values, Buffer.concat([u32(5), u32(6), u32(7)]));
    assert.ok(first.nextBatch !== null);
    const rest = a.lookupBatch(first.nextBatch, 3);
    assert.equal(rest.count, 1);
    assert.deepEqual(rest.keys, u32(3));
    assert.equal(rest.nextBatch, null);
    // A failure part-way reports how many elements were written (err.count).
    assert.throws(() => a.updateBatch(Buffer.concat([u32(0), u32(1), u32(9)]), Buffer.alloc(12), 3), (e: unknown) => {
      sysErr('E2BIG', 'bpf_map_update_batch')(e);
      assert.equal((e as { count?: number }).count, 2);
      return true;
    });
    a.updateBatch(Buffer.concat([u32(0), u32(1), u32(2), u32(3)]), Buffer.alloc(16), 4);
  });

  rootTest('LRU hash: update and lookup', () => {
    const l = obj.map('addon_lru');
    for (let i = 0; i < 10; i++) l.update(u32(i), u64(BigInt(i * i)));
    assert.deepEqual(l.lookup(u32(7)), u64(49n));
    assert.equal(l.delete(u32(7)), true);
    assert.equal(l.lookup(u32(7)), null);
  });

  rootTest('per-CPU array: update per CPU, split and sum; the program counts every run', () => {
    const c = obj.map('addon_counters');
    const ncpus = addon.possibleCpus();
    const zero = Buffer.alloc(c.valueBufferSize);
    c.update(u32(1), zero);
    const v = Buffer.alloc(c.valueBufferSize);
    for (let cpu = 0; cpu < ncpus; cpu++) v.set(Buffer.concat([u32(cpu + 1), u32(100), u32(0)]), cpu * 16);
    c.update(u32(1), v);
    const back = c.lookup(u32(1));
    assert.ok(back !== null);
    assert.equal(back.length, ncpus * 16);
    splitPerCpu(back, 12, ncpus).forEach((slot, cpu) => assert.equal(readU32(slot, 0), cpu + 1));
    assert.equal(sumPerCpu(back, 12, ncpus, 0, 4), BigInt((ncpus * (ncpus + 1)) / 2));
    assert.equal(sumPerCpu(back, 12, ncpus, 4, 4), BigInt(100 * ncpus));

    c.update(u32(0), zero);
    const data = Buffer.alloc(60);
    obj.testRun('addon_xdp', { data, repeat: 250 });
    obj.testRun('addon_xdp', { data: Buffer.alloc(100) });
    const counters = c.lookup(u32(0));
    assert.ok(counters !== null);
    assert.equal(sumPerCpu(counters, 12, ncpus, 0, 4), 251n); // packets
    assert.equal(sumPerCpu(counters, 12, ncpus, 4, 4), 250n * 60n + 100n); // bytes
  });

  rootTest('mmap: writes through the mapping are visible to lookup and to the program', () => {
    const m = obj.map('addon_mmap');
    const ab = m.mmap();
    assert.equal(ab.byteLength, 4 * 8); // 4 entries, u32 values at an 8-byte stride
    const view = new Uint32Array(ab);
    view[0] = 0x37;
    view[2] = 0xdead; // entry 1 is at byte 8
    assert.deepEqual(m.lookup(u32(0)), u32(0x37));
    assert.deepEqual(m.lookup(u32(1)), u32(0xdead));
    m.update(u32(3), u32(99));
    assert.equal(view[6], 99);
    const r = obj.testRun('addon_xdp', { data: Buffer.alloc(64) });
    assert.equal(r.data[1], 0x37);
    view[0] = 0;
    view[2] = 0;
    view[6] = 0;
  });

  rootTest('mmapAsync maps a large array in pieces as one buffer: every piece is the map, in order', async () => {
    const m = obj.map('addon_mmap_big');
    const n = 10 << 17;
    const ab = await m.mmapAsync();
    assert.equal(ab.byteLength, n * 8);
    const view = new BigUint64Array(ab);
    // across the 4 MiB piece boundaries (entries 524,288 and 1,048,576), first and last
    const probes = [0, 524_287, 524_288, 524_289, 1_048_575, 1_048_576, n - 1];
    for (const i of probes) m.update(u32(i), u64(BigInt(i) * 3n + 1n));
    for (const i of probes) assert.equal(view[i], BigInt(i) * 3n + 1n, `map -> mapping at ${i}`);
    for (const i of probes) view[i] = BigInt(i) + 7n;
    for (const i of probes) assert.deepEqual(m.lookup(u32(i)), u64(BigInt(i) + 7n), `mapping -> map at ${i}`);
    for (const i of probes) view[i] = 0n;
  });

  rootTest('testRun: verdict, output bytes, duration, repeat, headroom, testRunFd', () => {
    const data = Buffer.alloc(64, 0x11);
    const r = obj.testRun('addon_xdp', { data, repeat: 10 });
    assert.equal(r.retval, XDP_ACTION.PASS);
    assert.equal(r.data.length, 64);
    assert.equal(r.data[0], 0xa5);
    assert.equal(readU32(r.data, 4), 1); // no ctx_in: the kernel says lo
    assert.equal(readU32(r.data, 12), 0xa1b2c3d4); // the .data global set before load
    assert.deepEqual(r.data.subarray(16), data.subarray(16));
    assert.equal(data[0], 0x11, 'input is not modified');
    assert.ok(Number.isInteger(r.duration) && r.duration >= 0);

    assert.equal(obj.testRun('addon_xdp', { data: Buffer.alloc(14) }).retval, XDP_ACTION.ABORTED); // shorter than 16
    assert.throws(() => obj.testRun('addon_xdp', { data: Buffer.alloc(13) }), sysErr('EINVAL', 'bpf_prog_test_run_opts')); // < ETH_HLEN
    assert.equal(obj.testRun('addon_xdp_drop', { data }).retval, XDP_ACTION.DROP);

    const g = obj.testRun('addon_grow', { data });
    assert.equal(g.data.length, 64 + 20);
    assert.deepEqual(g.data.subarray(0, 20), Buffer.alloc(20, 0xee));
    assert.deepEqual(g.data.subarray(20), data);
    assert.throws(() => obj.testRun('addon_grow', { data, dataOutSize: 70 }), sysErr('ENOSPC', 'bpf_prog_test_run_opts'));

    const out = Buffer.alloc(256);
    const res = new Uint32Array(3);
    assert.equal(addon.testRunFd(obj.programFd('addon_grow'), data, out, 1, 0, 0, res), XDP_ACTION.PASS);
    assert.equal(res[0], XDP_ACTION.PASS);
    assert.equal(res[1], 84);
    assert.deepEqual(out.subarray(0, 84), g.data);
    assert.throws(() => addon.testRunFd(obj.programFd('addon_xdp'), data, out, 1, 0, 0, new Uint32Array(2)), TypeError);
  });

  rootTest('a const volatile knob set before load changes the verdict', () => {
    const o = openObj();
    o.setGlobal('addon_knob', u32(1));
    o.load();
    assert.equal(o.testRun('addon_xdp', { data: Buffer.alloc(64) }).retval, XDP_ACTION.DROP);
    o.close();
  });

  rootTest('verifier failure: code, syscall, verifierLog, libbpfLog (load and loadAsync)', async () => {
    const check = (e: unknown): boolean => {
      sysErr(/^(E[A-Z]+|XLB_ERR_BPF_[A-Z0-9]+)$/, 'bpf_object__load')(e);
      const o = e as { verifierLog?: unknown; libbpfLog?: unknown };
      assert.equal(typeof o.verifierLog, 'string');
      assert.match(o.verifierLog as string, /invalid access to packet/);
      assert.equal(typeof o.libbpfLog, 'string');
      assert.match(o.libbpfLog as string, /addon_bad/);
      return true;
    };
    const bad = openObj(BAD);
    assert.throws(() => bad.load(), check);
    assert.throws(() => bad.map('x'), { message: 'bpfObject.map: object is not loaded' });
    bad.close();
    const bad2 = openObj(BAD);
    await assert.rejects(bad2.loadAsync(), check);
    bad2.close();
  });

  rootTest('loadAsync: resolves; the object refuses calls while loading', async () => {
    const o = openObj();
    const p = o.loadAsync();
    assert.throws(() => o.mapNames(), { message: 'bpfObject.mapNames: a load is in progress' });
    assert.throws(() => o.close(), { message: 'bpfObject.close: a load is in progress' });
    await p;
    assert.equal(o.testRun('addon_xdp', { data: Buffer.alloc(64) }).retval, XDP_ACTION.PASS);
    o.close();
  });

  rootTest('close: the object closes its maps first; closed maps refuse calls; mmap outlives close', () => {
    const o = openObj();
    o.load();
    const h = o.map('addon_hash');
    const m = o.map('addon_mmap');
    const view = new Uint32Array(m.mmap());
    o.close();
    assert.equal(h.fd, -1);
    assert.throws(() => h.lookup(hashKey(1)), { message: 'bpfMap.lookup: map is closed' });
    m.close(); // idempotent after the parent closed it
    view[0] = 5; // the mapping is still valid
    assert.equal(view[0], 5);
  });

  rootTest('pin, BpfMap.fromPin, reuseMap into a second object', () => {
    const h = obj.map('addon_hash');
    const l = obj.map('addon_lru');
    const hashPin = join(PIN_DIR, 'addon_hash');
    const lruPin = join(PIN_DIR, 'addon_lru');
    h.pin(hashPin);
    l.pin(lruPin);
    assert.throws(() => h.pin(hashPin), sysErr('EEXIST', 'bpf_obj_pin'));

    const pinned = addon.BpfMap.fromPin(hashPin);
    assert.deepEqual([pinned.name, pinned.keySize, pinned.valueSize, pinned.maxEntries], ['addon_hash', 20, 8, 128]);
    pinned.update(hashKey(9), u64(99n));
    assert.deepEqual(h.lookup(hashKey(9)), u64(99n));

    const second = openObj();
    second.setMapMaxEntries('addon_hash', 128);
    second.setMapFlags('addon_hash', BPF_MAP_FLAG.NO_PREALLOC);
    second.reuseMap('addon_hash', hashPin);
    second.reuseMap('addon_lru', lruPin);
    second.load();
    assert.deepEqual(second.map('addon_hash').lookup(hashKey(9)), u64(99n));
    second.map('addon_lru').update(u32(42), u64(4242n));
    assert.deepEqual(l.lookup(u32(42)), u64(4242n));
    second.close();
    assert.deepEqual(pinned.lookup(hashKey(9)), u64(99n), 'pinned map survives the second object');
    pinned.delete(hashKey(9));
    pinned.close();
    pinned.close();

    // Incompatible: this object's addon_hash has 16 entries, the pin 128.
    const third = openObj();
    assert.throws(() => third.reuseMap('addon_hash', hashPin), (e: unknown) => {
      sysErr('EINVAL', 'bpf_map__reuse_fd')(e);
      assert.match((e as Error).message, /max_entries 128 != 16/);
      assert.equal((e as { path?: string }).path, hashPin);
      return true;
    });
    assert.throws(() => third.reuseMap('addon_hash', join(PIN_DIR, 'missing')), sysErr('ENOENT', 'bpf_obj_get'));
    third.close();
  });

  rootTest('fromPin of a missing path: ENOENT with the path', () => {
    const path = join(PIN_DIR, 'does-not-exist');
    assert.throws(() => addon.BpfMap.fromPin(path), (e: unknown) => {
      sysErr('ENOENT', 'bpf_obj_get')(e);
      assert.equal((e as { path?: string }).path, path);
      assert.equal((e as { errno?: number }).errno, -2);
      return true;
    });
    assert.throws(() => addon.BpfLink.fromPin(path), sysErr('ENOENT', 'bpf_obj_get'));
  });

  rootTest('netns helpers: enterNetns/restoreNetns, ifNameToIndex, errors', () => {
    assert.throws(() => addon.ifNameToIndex('xa'), sysErr('ENODEV', 'if_nametoindex')); // not in the root netns
    const xa = inNetns(addon, () => addon.ifNameToIndex('xa'));
    assert.ok(xa > 1);
    assert.throws(() => addon.ifNameToIndex('xa'), sysErr('ENODEV', 'if_nametoindex')); // restored
    assert.throws(() => addon.enterNetns(`/var/run/netns/xlbt-missing-${PID}`), sysErr('ENOENT', 'open'));
  });

  rootTest('testRun with ingressIfindex/rxQueueIndex inside the namespace', () => {
    inNetns(addon, () => {
      const xa = addon.ifNameToIndex('xa');
      const r = obj.testRun('addon_xdp', { data: Buffer.alloc(64), ingressIfindex: xa, rxQueueIndex: 0 });
      assert.equal(r.retval, XDP_ACTION.PASS);
      assert.equal(readU32(r.data, 4), xa);
      assert.equal(readU32(r.data, 8), 0);
      assert.throws(() => obj.testRun('addon_xdp', { data: Buffer.alloc(64), ingressIfindex: xa, rxQueueIndex: 99 }), sysErr('EINVAL', 'bpf_prog_test_run_opts'));
      const out = Buffer.alloc(128);
      const res = new Uint32Array(3);
      addon.testRunFd(obj.programFd('addon_xdp'), Buffer.alloc(64), out, 1, xa, 0, res);
      assert.equal(readU32(out, 4), xa);
    });
  });

  rootTest('attachXdp on a veth in the namespace: native, generic, auto; update; detach; pinned link', () => {
    inNetns(addon, () => {
      const xa = addon.ifNameToIndex('xa');
      const xb = addon.ifNameToIndex('xb');
      assert.equal(addon.xdpQuery(xa), null);

      for (const [mode, reported] of [['native', 'native'], ['generic', 'generic'], ['auto', 'native']] as const) {
        const link = obj.attachXdp('addon_xdp', xa, mode);
        assert.ok(link.fd > 2);
        const q = addon.xdpQuery(xa);
        assert.ok(q !== null);
        assert.equal(q.mode, reported, mode);
        assert.ok(q.progId > 0);
        assert.throws(() => obj.attachXdp('addon_xdp', xa, mode), sysErr(/^E[A-Z]+$/, 'bpf_link_create'));
        link.close();
        link.close();
        assert.equal(addon.xdpQuery(xa), null, `${mode}: closing the link detaches`);
      }

      // Atomic replacement, then detach.
      const link = obj.attachXdp('addon_xdp', xa, 'native');
      const before = addon.xdpQuery(xa)?.progId;
      link.update(obj.programFd('addon_xdp_drop'));
      const afterUpdate = addon.xdpQuery(xa)?.progId;
      assert.ok(before !== undefined && afterUpdate !== undefined && afterUpdate !== before);
      link.detach();
      assert.equal(addon.xdpQuery(xa), null);
      assert.throws(() => link.update(obj.programFd('addon_xdp')), sysErr(/^E[A-Z]+$/, 'bpf_link_update'));
      link.close();

      // A pinned link keeps the program attached after close; fromPin/unpin.
      const pinPath = join(PIN_DIR, 'link_xb');
      const l2 = obj.attachXdp('addon_xdp', xb, 'generic');
      assert.throws(() => l2.unpin(), sysErr('EINVAL', 'unlink'));
      l2.pin(pinPath);
      l2.close();
      assert.equal(addon.xdpQuery(xb)?.mode, 'generic');
      const l3 = addon.BpfLink.fromPin(pinPath);
      l3.unpin();
      assert.equal(existsSync(pinPath), false);
      l3.close();
      assert.equal(addon.xdpQuery(xb), null);
      assert.throws(() => addon.BpfMap.fromPin(join(PIN_DIR, 'addon_hash_missing')), sysErr('ENOENT', 'bpf_obj_get'));
    });
  });

  rootTest('fromPin of the wrong kind of object: EINVAL', () => {
    inNetns(addon, () => {
      const xa = addon.ifNameToIndex('xa');
      const link = obj.attachXdp('addon_xdp', xa, 'generic');
      const pinPath = join(PIN_DIR, 'link_as_map');
      link.pin(pinPath);
      assert.throws(() => addon.BpfMap.fromPin(pinPath), sysErr('EINVAL', 'bpf_obj_get'));
      link.unpin();
      link.close();
    });
    assert.throws(() => addon.BpfLink.fromPin(join(PIN_DIR, 'addon_hash')), sysErr('EINVAL', 'bpf_obj_get'));
  });
});
