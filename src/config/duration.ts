/**
 * @module config/duration
 * Duration strings of the config format (`150ms`, `2s`, `1m30s`, `500us`)
 * to milliseconds. Pure; no I/O.
 *
 * A duration is one or more `<number><unit>` parts, the number a decimal
 * without sign or exponent. Bare numbers are refused: a unit-less `100` is
 * ambiguous (seconds? milliseconds?) and is the commonest config mistake.
 */

/** Milliseconds per unit. `µs` is accepted as a spelling of `us`. */
export const DURATION_UNITS: Readonly<Record<string, number>> = Object.freeze({
  us: 0.001,
  µs: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
});

/** The units named in messages. */
const UNIT_LIST = 'us, ms, s, m, h';

/** Regular expression (source) the JSON Schema uses for durations. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(us|µs|ms|s|m|h))+$';

/** Thrown by {@link parseDuration}; the message is a complete sentence for the user. */
export class DurationError extends TypeError {}
Object.defineProperty(DurationError.prototype, 'name', { value: 'DurationError', writable: true, configurable: true });

/**
 * Parse a duration.
 * @param text e.g. `150ms`, `2s`, `1m`, `1h`, `500us`, `1m30s`, `1.5s`
 * @returns milliseconds (may be fractional: `500us` is 0.5)
 * @throws DurationError with a message saying what is wrong, e.g.
 *   `expected a duration such as 150ms or 2s, got "100"`
 */
export function parseDuration(text: string): number {
  const shown = JSON.stringify(text);
  const expected = `expected a duration such as 150ms or 2s, got ${shown}`;
  if (text.trim() === '') throw new DurationError(expected);
  if (/^\s*-/.test(text)) throw new DurationError(`a duration cannot be negative, got ${shown}`);
  if (/^\s*[0-9.]+\s*$/.test(text)) throw new DurationError(`${expected} (a number needs a unit: ${UNIT_LIST})`);
  const part = /([0-9]+(?:\.[0-9]+)?)([^0-9.]*)/y;
  let ms = 0;
  let pos = 0;
  while (pos < text.length) {
    part.lastIndex = pos;
    const m = part.exec(text);
    if (!m) throw new DurationError(expected);
    const [whole, num, unit] = m as unknown as [string, string, string];
    if (unit === '') {
      const atEnd = pos + whole.length === text.length;
      throw new DurationError(atEnd ? `${expected} (a number needs a unit: ${UNIT_LIST})` : expected);
    }
    const per = Object.prototype.hasOwnProperty.call(DURATION_UNITS, unit) ? DURATION_UNITS[unit] : undefined;
    if (per === undefined) {
      throw new DurationError(`unknown unit ${JSON.stringify(unit)} in duration ${shown} (use ${UNIT_LIST})`);
    }
    ms += Number(num) * per;
    pos += whole.length;
  }
  // whole nanoseconds: 1.1s is 1100, not 1100.0000000000002
  return Math.round(ms * 1e6) / 1e6;
}

/**
 * Format milliseconds as the shortest exact duration string of one unit
 * (`100ms`, `2s`, `500us`); used for defaults and messages.
 * @param ms non-negative milliseconds
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  for (const [unit, per] of [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    if (ms % per === 0) return `${ms / per}${unit}`;
  }
  return `${Math.round(ms * 1000)}us`;
}
