import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { choosePpsMethod, onlyParts, PARTS, runPart, type BenchOut } from '../../../bench/parts.js';

describe('bench parts', () => {
  it('runPart: a part that throws leaves a note and no keys, and the next part runs', async () => {
    const out: BenchOut = { rows: [], notes: [] };
    const logged: string[] = [];
    const log = (s: string): void => void logged.push(s);
    const ok1 = await runPart('apply', () => [{ key: 'apply_ms.1000_vips', value: 1500, label: 'apply' }], out, log);
    const ok2 = await runPart(
      'pps',
      async () => {
        out.rows.length; // a part may have started
        throw Object.assign(new Error('bpf_prog_test_run_opts failed: Operation not permitted\n    at stack'), { code: 'EPERM' });
      },
      out,
      log,
    );
    const ok3 = await runPart('health', async () => [{ key: 'hc_cpu_pct.10000', value: 40, label: 'hc' }], out, log);
    assert.deepEqual([ok1, ok2, ok3], [true, false, true]);
    assert.deepEqual(out.rows.map((r) => r.key), ['apply_ms.1000_vips', 'hc_cpu_pct.10000']);
    assert.deepEqual(out.notes, ['pps: not measured: bpf_prog_test_run_opts failed: Operation not permitted']);
    assert.deepEqual(logged, ['bench: pps failed: bpf_prog_test_run_opts failed: Operation not permitted']);
  });

  it('runPart: a part throwing a non-Error is noted too', async () => {
    const out: BenchOut = { rows: [], notes: [] };
    assert.equal(await runPart('vrrp', () => Promise.reject('no reply'), out, () => {}), false);
    assert.deepEqual(out.notes, ['vrrp: not measured: no reply']);
  });

  it('onlyParts: every part by default, a list, or an error naming the parts', () => {
    assert.deepEqual([...onlyParts(undefined)], [...PARTS]);
    assert.deepEqual([...onlyParts('')], [...PARTS]);
    assert.deepEqual([...onlyParts('pps')], ['pps']);
    assert.deepEqual([...onlyParts(' pps, health ,')], ['pps', 'health']);
    assert.throws(() => onlyParts('pps,pump'), new RegExp(`XLB_BENCH_ONLY: unknown part pump \\(parts: ${PARTS.join(', ')}\\)`));
  });

  it('choosePpsMethod: the pump where the probe says live frames are refused, or when asked', async () => {
    let probed = 0;
    const refused = async (): Promise<string> => {
      probed++;
      return 'bpf_prog_test_run_opts failed: Operation not permitted';
    };
    const allowed = async (): Promise<null> => {
      probed++;
      return null;
    };
    assert.deepEqual(await choosePpsMethod(undefined, refused), { method: 'pump', why: 'live frames refused here (bpf_prog_test_run_opts failed: Operation not permitted)' });
    assert.deepEqual(await choosePpsMethod('', allowed), { method: 'live' });
    assert.equal(probed, 2);
    // asked for: no probe
    assert.deepEqual(await choosePpsMethod('pump', allowed), { method: 'pump', why: 'asked for (XLB_BENCH_PPS_METHOD=pump)' });
    assert.deepEqual(await choosePpsMethod('live', refused), { method: 'live' });
    assert.equal(probed, 2);
    await assert.rejects(choosePpsMethod('trafgen', allowed), /XLB_BENCH_PPS_METHOD must be live, pump or empty .* got 'trafgen'/);
  });
});
