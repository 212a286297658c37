/**
 * The import graph of src/config/: acyclic (type-only imports count: they
 * tie the modules together just as much), and the config format reads the
 * protocol's defaults from spec modules (src/vrrp/spec.ts,
 * src/health/spec.ts), never from an FSM, a runner or anything else of the
 * protocol rooms.
 *
 * The graph is read from the source files with TypeScript's own
 * preProcessFile (static imports, `export ... from`, dynamic `import()`).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const CONFIG = join(ROOT, 'src/config');

/** @returns the repository-relative .ts files `file` imports by relative path. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const out: string[] = [];
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith('.')) continue; // a package
    out.push(relative(ROOT, resolve(dirname(file), fileName.replace(/\.js$/, '.ts'))));
  }
  return out;
}

/** @returns the import graph of `files` and of everything they reach (repository-relative paths). */
function graphFrom(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const todo = [...files];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (graph.has(f)) continue;
    const deps = importsOf(join(ROOT, f));
    graph.set(f, deps);
    todo.push(...deps);
  }
  return graph;
}

/** @returns one cycle of `graph` as a path `a -> b -> a`, or undefined when it is acyclic. */
export function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'open') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'open');
    stack.push(n);
    for (const d of graph.get(n) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of [...graph.keys()].sort()) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}

const configFiles = readdirSync(CONFIG)
  .filter((f) => f.endsWith('.ts'))
  .sort()
  .map((f) => relative(ROOT, join(CONFIG, f)));

describe('src/config imports', () => {
  it('reads the import statements (the parser of this test sees what it must)', () => {
    const load = importsOf(join(ROOT, 'src/config/load.ts'));
    assert.ok(load.includes('src/config/health.ts'), load.join(', '));
    assert.ok(load.includes('src/config/model.ts'), load.join(', '));
    // type-only imports are edges too
    assert.ok(importsOf(join(ROOT, 'src/config/health.ts')).includes('src/config/fields.ts'));
    assert.deepEqual(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]])), ['a', 'b', 'c', 'a']);
    assert.equal(findCycle(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]])), undefined);
  });

  it('has no circle: src/config/*.ts and everything they import form an acyclic graph', () => {
    const cycle = findCycle(graphFrom(configFiles));
    assert.equal(cycle, undefined, `import circle: ${cycle?.join(' -> ')}`);
  });

  it('reaches no state machine, runner or worker: protocol defaults come from spec modules', () => {
    const graph = graphFrom(configFiles);
    const protocol = [...graph.keys()].filter((f) => /^src\/(vrrp|health|bfd)\//.test(f));
    const forbidden = protocol.filter((f) => !/\/spec\.ts$/.test(f));
    // say which config module pulls each one in
    const via = forbidden.map((f) => `${f} (imported by ${[...graph].filter(([, d]) => d.includes(f)).map(([m]) => m).join(', ')})`);
    assert.deepEqual(via, []);
    assert.ok(protocol.includes('src/vrrp/spec.ts') && protocol.includes('src/health/spec.ts'), protocol.join(', '));
  });

  it('reads spec modules that import nothing (so they cannot pull an FSM in later)', () => {
    for (const spec of ['src/vrrp/spec.ts', 'src/health/spec.ts', 'src/bfd/spec.ts']) assert.deepEqual(importsOf(join(ROOT, spec)), [], spec);
  });
});
