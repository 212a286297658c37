/**
 * Test helper: YAML text written indented inside a test file.
 * Not a test file itself (no `.test.` in the name).
 */

/**
 * Strips the first newline and the common leading indentation, so
 * `yaml\`\n    a: 1\n    b: 2\n\`` is `a: 1\nb: 2\n`. Tabs are kept as written.
 */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''), '');
  const body = raw.replace(/^\n/, '').replace(/[ ]+$/, '');
  const lines = body.split('\n');
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length);
  const cut = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut)).join('\n');
}
