// Unit tests of the error hierarchy (H-36, H-49): names, codes, messages from
// the table, cause chaining, instanceof; and the addon error conversion.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AbiError,
  causeChain,
  CliUsageError,
  CodecError,
  ConfigError,
  ERROR_CODES,
  EXIT_USAGE,
  findCode,
  formatMessage,
  SystemError,
  XlbError,
} from '../../src/errors.js';
import { loadNative } from '../../src/native/binding.js';
import { callNative, callNativeAsync, isNativeSystemError, toSystemError } from '../../src/native/errors.js';

/** An error shaped like the addon's (native/src/errors.cc). */
function nativeError(code: string, errno: number, syscall: string, text: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${syscall} failed: ${text}`), { code, errno, syscall, ...extra });
}

describe('error table', () => {
  test('every code is XLB_ERR_<AREA>[_<WHAT>] with a non-empty template', () => {
    for (const [code, template] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^XLB_ERR_[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      assert.ok(template.length > 0, code);
    }
  });

  test('formatMessage fills the template, passes strings through, uses the errno template for E* codes', () => {
    assert.equal(formatMessage('XLB_ERR_CODEC_TRUNCATED', ['vrrp', 'ip_addrs[2]', 28]), 'vrrp: truncated at ip_addrs[2] (offset 28)');
    assert.equal(formatMessage('XLB_ERR_ABI_MISMATCH', 'exact text'), 'exact text');
    assert.equal(formatMessage('ENOENT', ['bpf_obj_get', 'No such file or directory']), 'bpf_obj_get failed: No such file or directory');
  });
});

describe('classes', () => {
  test('XlbError: name, code, message, instanceof, no own name property', () => {
    const e = new XlbError('XLB_ERR_INTERNAL', ['ring slot leaked']);
    assert.equal(e.name, 'XlbError');
    assert.equal(e.code, 'XLB_ERR_INTERNAL');
    assert.equal(e.message, 'internal error: ring slot leaked');
    assert.ok(e instanceof Error);
    assert.ok(e instanceof XlbError);
    assert.equal(Object.hasOwn(e, 'name'), false);
    assert.equal(e.cause, undefined);
    assert.equal('cause' in e, false);
    assert.match(String(e.stack), /^XlbError: internal error: ring slot leaked/);
  });

  test('ConfigError: location prefix and fields', () => {
    const loc = { file: 'xlb.yaml', line: 12, col: 5, key: 'vips[0].port' };
    const e = new ConfigError('XLB_ERR_CONFIG_INVALID', ['must be 1..65535'], loc);
    assert.equal(e.name, 'ConfigError');
    assert.equal(e.code, 'XLB_ERR_CONFIG_INVALID');
    assert.equal(e.message, 'xlb.yaml:12:5: vips[0].port: invalid value: must be 1..65535');
    assert.deepEqual([e.file, e.line, e.col, e.key], ['xlb.yaml', 12, 5, 'vips[0].port']);
    assert.ok(e instanceof XlbError);
  });

  test('CodecError: offset', () => {
    const e = new CodecError('XLB_ERR_CODEC_TRUNCATED', ['vrrp', 'ip_addrs[2]', 28], 28);
    assert.equal(e.name, 'CodecError');
    assert.equal(e.offset, 28);
    assert.equal(e.message, 'vrrp: truncated at ip_addrs[2] (offset 28)');
    assert.ok(e instanceof XlbError && !(e instanceof ConfigError));
  });

  test('SystemError: errno, syscall and attachments', () => {
    const e = new SystemError('EPERM', ['bpf_object__load', 'Operation not permitted'], {
      errno: -1,
      syscall: 'bpf_object__load',
      verifierLog: 'R1 offset is outside of the packet',
      libbpfLog: 'libbpf: prog failed',
    });
    assert.equal(e.name, 'SystemError');
    assert.equal(e.code, 'EPERM');
    assert.equal(e.errno, -1);
    assert.equal(e.syscall, 'bpf_object__load');
    assert.equal(e.message, 'bpf_object__load failed: Operation not permitted');
    assert.equal(e.verifierLog, 'R1 offset is outside of the packet');
    assert.equal(e.path, undefined);
    assert.ok(e instanceof XlbError);
  });

  test('AbiError and CliUsageError', () => {
    const a = new AbiError('XLB_ERR_ABI_MISMATCH', 'map xlb_vips: key 20 bytes, ABI says 24');
    assert.equal(a.name, 'AbiError');
    assert.equal(a.message, 'map xlb_vips: key 20 bytes, ABI says 24');
    const v = new AbiError('XLB_ERR_ABI_VERSION', [1, 2]);
    assert.equal(v.message, 'ABI version 1 found, 2 expected');
    const c = new CliUsageError('XLB_ERR_CLI_USAGE', ['unknown command "lod"']);
    assert.equal(c.name, 'CliUsageError');
    assert.equal(c.exitCode, EXIT_USAGE);
    assert.equal(new CliUsageError('XLB_ERR_CLI_USAGE', 'x', 64).exitCode, 64);
    for (const e of [a, v, c]) assert.ok(e instanceof XlbError);
    assert.ok(!(a instanceof CliUsageError));
  });
});

describe('cause chaining', () => {
  test('cause is kept and walked; findCode finds an inner code', () => {
    const root = new Error('ECONNRESET from the socket');
    const mid = new CodecError('XLB_ERR_CODEC_BAD_CHECKSUM', ['bfd', 'beef', 'cafe', 0], 0, { cause: root });
    const top = new XlbError('XLB_ERR_INTERNAL', ['session lost'], { cause: mid });
    assert.equal(top.cause, mid);
    assert.equal(mid.cause, root);
    assert.deepEqual(causeChain(top), [top, mid, root]);
    assert.equal(findCode(top, 'XLB_ERR_CODEC_BAD_CHECKSUM'), mid);
    assert.equal(findCode(top, 'XLB_ERR_CONFIG_SYNTAX'), undefined);
  });

  test('an explicit undefined cause is recorded, a cycle ends the walk', () => {
    assert.equal('cause' in new XlbError('XLB_ERR_INTERNAL', [], { cause: undefined }), true);
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    assert.deepEqual(causeChain(b), [b, a]);
  });
});

describe('native error conversion', () => {
  test('a native system error becomes a SystemError with the same message and fields', () => {
    const n = nativeError('ENOENT', -2, 'bpf_obj_get', 'No such file or directory (/sys/fs/bpf/x)', { path: '/sys/fs/bpf/x' });
    assert.ok(isNativeSystemError(n));
    const e = toSystemError(n);
    assert.ok(e instanceof SystemError);
    assert.equal(e.code, 'ENOENT');
    assert.equal(e.errno, -2);
    assert.equal(e.syscall, 'bpf_obj_get');
    assert.equal(e.path, '/sys/fs/bpf/x');
    assert.equal(e.message, n.message);
    assert.equal(e.cause, n);
  });

  test('verifierLog, libbpfLog and count are preserved; libbpf codes kept; unknown codes fall back', () => {
    const n = nativeError('XLB_ERR_BPF_VERIFY', -4007, 'bpf_object__load', 'Kernel verifier blocks program loading', {
      verifierLog: 'invalid access to packet',
      libbpfLog: 'libbpf: failed to load',
    });
    const e = toSystemError(n) as SystemError;
    assert.equal(e.code, 'XLB_ERR_BPF_VERIFY');
    assert.equal(e.verifierLog, 'invalid access to packet');
    assert.equal(e.libbpfLog, 'libbpf: failed to load');
    const b = toSystemError(nativeError('EEXIST', -17, 'bpf_map_update_batch', 'File exists', { count: 3 })) as SystemError;
    assert.equal(b.count, 3);
    const odd = toSystemError(nativeError('Unknown system error 9999', -9999, 'bpf', 'Unknown error 9999')) as SystemError;
    assert.equal(odd.code, 'XLB_ERR_SYSTEM');
    assert.equal(odd.message, 'bpf failed: Unknown error 9999');
  });

  test('argument errors and non-errors pass through', () => {
    const t = new TypeError('bpfMap.update: key must be a Buffer of 20 bytes');
    assert.equal(toSystemError(t), t);
    assert.equal(toSystemError('x'), 'x');
    assert.equal(isNativeSystemError({ code: 'E', errno: 1, syscall: 's' }), false);
    const already = new SystemError('EPERM', 'x', { errno: -1, syscall: 'y' });
    assert.equal(toSystemError(already), already);
  });

  test('callNative and callNativeAsync convert what they catch', async () => {
    assert.equal(callNative(() => 7), 7);
    assert.throws(() => callNative(() => { throw nativeError('EPERM', -1, 'bpf_link_create', 'Operation not permitted'); }), (e: unknown) => e instanceof SystemError && e.code === 'EPERM');
    assert.throws(() => callNative(() => { throw new TypeError('t'); }), TypeError);
    await assert.rejects(callNativeAsync(async () => { throw nativeError('EACCES', -13, 'bpf_object__load', 'Permission denied'); }), (e: unknown) => e instanceof SystemError && e.syscall === 'bpf_object__load');
    assert.equal(await callNativeAsync(async () => 'ok'), 'ok');
  });
});

describe('native loader', () => {
  test('a missing addon is XLB_ERR_NATIVE_UNAVAILABLE with the loader error as cause', () => {
    assert.throws(() => loadNative('/nonexistent/xlb-native'), (e: unknown) => {
      assert.ok(e instanceof XlbError);
      assert.equal(e.code, 'XLB_ERR_NATIVE_UNAVAILABLE');
      assert.ok(e.cause instanceof Error);
      return true;
    });
  });
});
