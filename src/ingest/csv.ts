import { readFileSync, statSync } from 'node:fs';
import { InvalidInputError } from '../core/errors.ts';

/** One observation: epoch seconds and value, as read from a file (not yet on a grid). */
export interface Sample {
  readonly timeSeconds: number;
  readonly value: number;
}

export interface CsvOptions {
  readonly timestampColumn?: string;
  readonly valueColumn?: string;
  /** Largest file accepted, in bytes (an oversized file is rejected before it is read). */
  readonly maxBytes?: number;
  /** Fewest samples accepted (default 2, enough to infer a step). */
  readonly minSamples?: number;
}

const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Parse a timestamp: ISO 8601, `YYYY-MM-DD HH:MM:SS` (taken as UTC, as in the
 * NAB data), or a number of epoch seconds. Returns NaN when unparseable.
 */
export function parseTimestamp(text: string): number {
  const t = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(t);
  if (m) {
    const [, y, mo, d, h, mi, s, frac, zone] = m;
    // Date.UTC rolls over (month 13 -> next January); reject out-of-range fields instead.
    const daysInMonth = new Date(Date.UTC(+y, +mo, 0)).getUTCDate();
    if (+mo < 1 || +mo > 12 || +d < 1 || +d > daysInMonth || +h > 23 || +mi > 59 || (s !== undefined && +s > 59)) return NaN;
    let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, s ? +s : 0) + (frac ? Math.round(Number(frac) * 1000) : 0);
    if (zone && zone !== 'Z') {
      const sign = zone.startsWith('-') ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
    }
    return ms / 1000;
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) return Date.parse(`${t}T00:00:00Z`) / 1000;
  return NaN;
}

/** Split one CSV line, honouring double quotes. */
function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { out.push(cur); cur = ''; }
    else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * Parse CSV text with a header row into samples sorted by time. Every problem
 * names the file (`where`), the line and the column: a missing column, an
 * unparseable timestamp, a value that is not a finite number, a negative
 * value, or two samples at the same time.
 */
export function parseSamplesCsv(text: string, where: string, options: CsvOptions = {}): Sample[] {
  const timestampColumn = options.timestampColumn ?? 'timestamp';
  const valueColumn = options.valueColumn ?? 'value';
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim());
  const ti = header.indexOf(timestampColumn);
  const vi = header.indexOf(valueColumn);
  if (header.length === 0 || (header.length === 1 && header[0] === '')) {
    throw new InvalidInputError(where, 'the file is empty; expected a header row such as "timestamp,value"');
  }
  for (const [col, idx] of [[timestampColumn, ti], [valueColumn, vi]] as const) {
    if (idx < 0) {
      throw new InvalidInputError(where, `no column named "${col}" in the header (columns: ${header.map((h) => `"${h}"`).join(', ')})`);
    }
  }
  const samples: Sample[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const cells = splitCsvLine(line);
    const lineNo = i + 1;
    const rawTime = cells[ti];
    const rawValue = cells[vi];
    if (rawTime === undefined || rawValue === undefined) {
      throw new InvalidInputError(`${where}:${lineNo}`, `expected ${header.length} columns, found ${cells.length}`);
    }
    const timeSeconds = parseTimestamp(rawTime);
    if (!Number.isFinite(timeSeconds)) {
      throw new InvalidInputError(`${where}:${lineNo}`, `column "${timestampColumn}": "${rawTime.trim()}" is not a timestamp (use ISO 8601, "YYYY-MM-DD HH:MM:SS" in UTC, or epoch seconds)`);
    }
    const trimmed = rawValue.trim();
    const value = trimmed === '' ? NaN : Number(trimmed);
    if (!Number.isFinite(value)) {
      throw new InvalidInputError(`${where}:${lineNo}`, `column "${valueColumn}": "${trimmed}" is not a finite number`);
    }
    if (value < 0) {
      throw new InvalidInputError(`${where}:${lineNo}`, `column "${valueColumn}": demand cannot be negative (${trimmed})`);
    }
    samples.push({ timeSeconds, value });
  }
  const minSamples = options.minSamples ?? 2;
  if (samples.length < minSamples) throw new InvalidInputError(where, `needs at least ${minSamples} sample${minSamples === 1 ? '' : 's'}, found ${samples.length}`);
  samples.sort((a, b) => a.timeSeconds - b.timeSeconds);
  for (let i = 1; i < samples.length; i++) {
    if (samples[i].timeSeconds === samples[i - 1].timeSeconds) {
      throw new InvalidInputError(where, `two samples at the same time ${new Date(samples[i].timeSeconds * 1000).toISOString()}`);
    }
  }
  return samples;
}

/** Read and parse a `timestamp,value` CSV file; errors name the file and line. */
export function readSamplesCsv(path: string, options: CsvOptions = {}): Sample[] {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new InvalidInputError(path, 'file not found');
  }
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (size > maxBytes) throw new InvalidInputError(path, `file is ${size} bytes, more than the limit of ${maxBytes}`);
  return parseSamplesCsv(readFileSync(path, 'utf8'), path, options);
}
