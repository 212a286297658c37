// src/net/ holds pure codecs (DESIGN §1, STYLE H-28): bytes in, bytes or
// values out. This test parses every src/net/*.ts with the TypeScript
// compiler (already a dev dependency) and fails when one of them imports
// socket, file, process or timer modules, the addon (src/native/, the .node
// file, node-gyp-build) or an I/O room (src/io/), or calls a timer. node:net
// is allowed for its pure address helpers (isIP, isIPv4, isIPv6) only.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import ts from 'typescript';

/** Modules a pure codec never imports, whatever it takes from them. */
const FORBIDDEN = new Set([
  'dgram',
  'fs',
  'fs/promises',
  'events',
  'child_process',
  'cluster',
  'worker_threads',
  'http',
  'https',
  'http2',
  'tls',
  'timers',
  'timers/promises',
  'readline',
  'node-gyp-build',
]);
/** What a pure codec may take from node:net: address parsing, no sockets. */
const NET_PURE = new Set(['isIP', 'isIPv4', 'isIPv6']);
/** Timer globals (Node needs no import for them). */
const TIMERS = new Set(['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask']);

/**
 * The impure imports and timer calls of one module's source, as
 * `"<what> (line N)"` strings; empty when it is pure.
 * @param text the TypeScript source
 * @param name its file name, for the parser
 */
function impurities(text: string, name = 'x.ts'): string[] {
  const sf = ts.createSourceFile(name, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: string[] = [];
  const line = (n: ts.Node): number => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const checkSpecifier = (spec: string, names: string[] | 'all', at: ts.Node): void => {
    const bare = spec.replace(/^node:/, '');
    if (FORBIDDEN.has(bare)) out.push(`imports ${spec} (line ${line(at)})`);
    else if (bare === 'net') {
      const bad = names === 'all' ? ['*'] : names.filter((n) => !NET_PURE.has(n));
      if (bad.length > 0) out.push(`imports ${bad.join(', ')} from ${spec} (line ${line(at)})`);
    } else if (/(^|\/)(native|io)(\/|$)/.test(spec) || spec.endsWith('.node')) out.push(`imports ${spec} (line ${line(at)})`);
  };
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      let names: string[] | 'all' = [];
      if (ts.isImportDeclaration(n)) {
        const c = n.importClause;
        // a type-only import brings no code along
        if (c?.isTypeOnly) names = [];
        else if (c?.name || (c?.namedBindings && ts.isNamespaceImport(c.namedBindings))) names = 'all';
        else if (c?.namedBindings && ts.isNamedImports(c.namedBindings)) names = c.namedBindings.elements.filter((e) => !e.isTypeOnly).map((e) => (e.propertyName ?? e.name).text);
        else if (!c) names = 'all'; // import 'x' for its side effects
        if (c?.isTypeOnly || (names !== 'all' && names.length === 0 && c?.namedBindings)) {
          ts.forEachChild(n, visit);
          return;
        }
      } else {
        if (n.isTypeOnly) return;
        names = n.exportClause && ts.isNamedExports(n.exportClause) ? n.exportClause.elements.map((e) => (e.propertyName ?? e.name).text) : 'all';
      }
      checkSpecifier(n.moduleSpecifier.text, names, n);
    } else if (ts.isCallExpression(n)) {
      const [arg] = n.arguments;
      const dynamic = n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require');
      if (dynamic && arg && ts.isStringLiteral(arg)) checkSpecifier(arg.text, 'all', n);
      if (ts.isIdentifier(n.expression) && TIMERS.has(n.expression.text)) out.push(`calls ${n.expression.text} (line ${line(n)})`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

describe('src/net/ is pure', () => {
  test('the checker finds each kind of impurity', () => {
    const cases: [string, number][] = [
      ["import { EventEmitter } from 'node:events';", 1],
      ["import { createSocket } from 'node:dgram';", 1],
      ["import { readFileSync } from 'fs';", 1],
      ["import { Socket } from 'node:net';", 1],
      ["import * as net from 'node:net';", 1],
      ["import net from 'node:net';", 1],
      ["import { isIPv4, connect } from 'node:net';", 1],
      ["import { NetlinkSocket } from '../native/socket.js';", 1],
      ["import { native } from '../native/binding.js';", 1],
      ["import { NetlinkClient } from '../io/netlink-client.js';", 1],
      ["export { x } from '../native/socket.js';", 1],
      ["const m = await import('node:fs');", 1],
      ["const addon = require('../../native/build/Release/xlb_native.node');", 1],
      ["import { setTimeout as sleep } from 'node:timers/promises';", 1],
      ['setTimeout(() => 0, 10);', 1],
      ['const t = setInterval(f, 1); setImmediate(g);', 2],
      // pure: address helpers, codecs, types, comments and strings
      ["import { isIPv4, isIPv6, isIP } from 'node:net';", 0],
      ["import { endianness } from 'node:os';", 0],
      ["import { CodecError } from '../errors.js';", 0],
      ["import type { NetlinkDatagram } from '../native/binding.js';", 0],
      ["import { type NetlinkDatagram } from '../native/binding.js';", 0],
      ["// setTimeout(f) in a comment\nconst s = 'setTimeout(f)';", 0],
      ["import { AF } from './rtnetlink.js';", 0],
    ];
    for (const [src, n] of cases) assert.equal(impurities(src).length, n, `${src}: ${JSON.stringify(impurities(src))}`);
  });

  const dir = new URL('../../../../src/net/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts')).sort();
  test('src/net/ has modules to check', () => {
    assert.ok(files.includes('rtnetlink.ts') && files.includes('link-addr.ts'), files.join(', '));
  });
  for (const f of files) {
    test(`src/net/${f} imports no sockets, files, timers or addon`, () => {
      assert.deepEqual(impurities(readFileSync(new URL(f, dir), 'utf8'), f), []);
    });
  }
});
