const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * Parse a duration into seconds: a number of seconds, or a string such as
 * "90s", "5m", "1h30m", "7d", "2w". Returns undefined when it is not one.
 */
export function parseDurationSeconds(input: number | string): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? input : undefined;
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const re = /(\d+(?:\.\d+)?)([smhdw])/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * UNIT_SECONDS[m[2]];
    matched += m[0].length;
  }
  return matched === text.length && matched > 0 ? total : undefined;
}

/** "2d 3h", "5m", "15s": a short human form of a number of seconds. */
export function formatDuration(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
