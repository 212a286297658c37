/**
 * @module tools/gen-schema
 * Writes schema/xlb.schema.json, the JSON Schema of the config format, from
 * src/config/schema.ts (a unit test checks the committed file is current).
 * Usage: node dist/src/tools/gen-schema.js schema/xlb.schema.json
 * Build tool: writes one file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { renderSchema } from '../config/schema.js';

/** Writes the schema to the path in `argv[0]`. */
function main(argv: string[]): void {
  const [out] = argv;
  if (!out) {
    process.stderr.write('usage: gen-schema <out.json>\n');
    process.exit(2);
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, renderSchema());
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) main(process.argv.slice(2));
