/** The JSON Schema: the committed file is current and agrees with the loader. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CHECK_TYPES } from '../../../src/health/spec.js';
import { CHECK_KEYS, CHECK_REQUIRED } from '../../../src/config/health.js';
import { CONFIG_KEYS } from '../../../src/config/load.js';
import { renderSchema, SCHEMA } from '../../../src/config/schema.js';

type Json = { [k: string]: unknown };

describe('schema/xlb.schema.json', () => {
  it('equals src/config/schema.ts (regenerate: node dist/src/tools/gen-schema.js schema/xlb.schema.json)', () => {
    const committed = readFileSync(new URL('../../../../schema/xlb.schema.json', import.meta.url), 'utf8');
    assert.deepEqual(JSON.parse(committed), JSON.parse(JSON.stringify(SCHEMA)));
    assert.equal(committed, renderSchema());
  });

  it('is draft 2020-12 and closed', () => {
    assert.equal(SCHEMA.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(SCHEMA.additionalProperties, false);
  });

  it('has the keys the loader accepts, and the same required keys', () => {
    const s = SCHEMA as unknown as Json & { properties: Record<string, Json>; $defs: Record<string, Json> };
    const objects: Record<keyof typeof CONFIG_KEYS, Json> = {
      root: s,
      interface: s.$defs.interface!,
      metrics: s.properties.metrics!,
      log: s.properties.log!,
      limits: s.properties.limits!,
      tunnel: s.properties.tunnel!,
      service: s.$defs.service!,
      backend: s.$defs.backend!,
      serviceHealth: s.$defs.service_health!,
      backendHealth: s.$defs.backend_health!,
      check: s.$defs.check!,
      tls: s.$defs.tls!,
      sorryServer: s.$defs.sorry_server!,
      command: (s.$defs.command!.oneOf as Json[])[1]!,
    };
    for (const [name, spec] of Object.entries(CONFIG_KEYS) as [keyof typeof CONFIG_KEYS, (typeof CONFIG_KEYS)[keyof typeof CONFIG_KEYS]][]) {
      const o = objects[name];
      assert.deepEqual(Object.keys(o.properties as Json), [...spec.allowed], name);
      assert.deepEqual((o.required as string[] | undefined) ?? [], [...spec.required], name);
      assert.equal(o.additionalProperties, false, name);
    }
  });

  it('allows the keys of each check type the loader allows, and requires the same', () => {
    const check = (SCHEMA.$defs.check as unknown as { allOf: { if: { properties: { type: { const: string } } }; then: { propertyNames: { enum: string[] }; required: string[] } }[] }).allOf;
    assert.deepEqual(check.map((c) => c.if.properties.type.const), [...CHECK_TYPES]);
    for (const c of check) {
      const t = c.if.properties.type.const as (typeof CHECK_TYPES)[number];
      assert.deepEqual(c.then.propertyNames.enum, [...CHECK_KEYS[t]], t);
      assert.deepEqual(c.then.required, ['type', ...(CHECK_REQUIRED[t] ?? [])], t);
    }
  });

  it('describes every property', () => {
    const missing: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${path}[${i}]`));
      if (node === null || typeof node !== 'object') return;
      const o = node as Json;
      if (o.properties) {
        for (const [k, v] of Object.entries(o.properties as Json)) {
          if (typeof (v as Json).description !== 'string') missing.push(`${path}.${k}`);
        }
      }
      // the if/then/else of allOf only restate properties described above
      for (const [k, v] of Object.entries(o)) if (k !== 'allOf') walk(v, `${path}.${k}`);
    };
    walk(SCHEMA, '#');
    assert.deepEqual(missing, []);
  });
});
