/**
 * @module config/did-you-mean
 * Suggestions for misspelt config keys: `unknown key "backend" (did you mean
 * "backends"?)`. Pure; no I/O.
 */

/** Largest edit distance that still earns a suggestion. */
export const MAX_SUGGEST_DISTANCE = 2;

/**
 * Damerau–Levenshtein distance, optimal string alignment variant: inserts,
 * deletes, substitutions and transpositions of adjacent characters cost 1;
 * no substring is edited twice.
 * @param a first string
 * @param b second string
 * @returns the number of edits turning `a` into `b`
 */
export function editDistance(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  if (n === 0) return m;
  if (m === 0) return n;
  // rows i-2, i-1, i of the (n+1) x (m+1) table
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m]!;
}

/** Lower case, without `_` and `-`: `xdpMode`, `XDP_MODE` and `xdp-mode` are all `xdpmode`. */
function fold(s: string): string {
  return s.toLowerCase().replace(/[_-]/g, '');
}

/**
 * The candidate the user most likely meant.
 *
 * A candidate equal to `word` ignoring case, `_` and `-` wins outright.
 * Otherwise the closest candidate by {@link editDistance}, if that distance
 * is at most {@link MAX_SUGGEST_DISTANCE} and smaller than `word`'s length
 * (so `x` does not suggest `ab`); ties go to the earlier candidate.
 * @param word what the user wrote
 * @param candidates the accepted spellings, in preference order
 * @returns the suggestion, or undefined
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const folded = fold(word);
  const exact = candidates.find((c) => fold(c) === folded && c !== word);
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestDist = MAX_SUGGEST_DISTANCE + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDist && d < word.length) {
      best = c;
      bestDist = d;
    }
  }
  return best;
}

/**
 * The message for an unknown key: with a suggestion when there is one,
 * otherwise listing what is allowed.
 * @param word the unknown key
 * @param candidates the keys allowed at that place
 * @returns e.g. `unknown key "backend" (did you mean "backends"?)` or
 *   `unknown key "colour" (allowed: name, xdp_mode)`
 */
export function unknownKeyMessage(word: string, candidates: readonly string[]): string {
  const hint = didYouMean(word, candidates);
  const shown = JSON.stringify(word);
  if (hint !== undefined) return `unknown key ${shown} (did you mean ${JSON.stringify(hint)}?)`;
  return `unknown key ${shown} (allowed: ${candidates.join(', ')})`;
}

/**
 * The tail of a "no X named Y" message for a reference to an undefined
 * name: a suggestion, else the names there are (up to 8), else `none`.
 * @param name the name referenced
 * @param names the names defined
 * @param none what to say when there are none (`bfd.instances defines none`)
 * @returns e.g. ` (did you mean "VI_1"?)`, ` (defined: a, b)`, ` (bfd.instances defines none)`
 */
export function nameCandidates(name: string, names: readonly string[], none: string): string {
  const hint = didYouMean(name, names);
  if (hint !== undefined) return ` (did you mean ${JSON.stringify(hint)}?)`;
  if (names.length === 0) return ` (${none})`;
  const shown = names.slice(0, 8).join(', ');
  return ` (defined: ${shown}${names.length > 8 ? ', ...' : ''})`;
}
