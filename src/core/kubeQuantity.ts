import { InvalidInputError, isUserError } from './errors.ts';

/**
 * Kubernetes resource quantities ("100m", "1", "0.5", "64Mi", "1Gi", "128M",
 * "1e3") converted once, here at the boundary, into cpuMillicores and
 * memoryMiB. The grammar is Kubernetes' own (k8s.io/apimachinery
 * resource.Quantity): a signed decimal number and one suffix, either binary
 * (Ki Mi Gi Ti Pi Ei = 2^10 … 2^60), decimal (n u m "" k M G T P E =
 * 10^-9 … 10^18) or a decimal exponent (e3, E-2). Anything else ("64MB",
 * "1 Gi", "2 cores") is refused with the accepted suffixes in the message.
 *
 * Hand-written: @kubernetes/client-node does not export its parser (and that
 * one rejects fractional binary quantities such as "1.5Gi"), and the grammar is
 * one regular expression and two tables. Used at every boundary that reads
 * Kubernetes: manifest import, the Kubernetes driver and its fake API server.
 */

const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Readonly<Record<string, number>> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const SUFFIXES = 'n, u, m, (none), k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, or an exponent such as e3';

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(.*)$/;

/** A quantity as a plain number in its base unit (cores, bytes), exactly as Kubernetes reads it. */
export function parseQuantity(value: string | number, where: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidInputError(where, `${value} is not a quantity`);
    return value;
  }
  const m = QUANTITY.exec(value);
  if (!m) throw new InvalidInputError(where, `"${value}" is not a Kubernetes quantity (a number followed by one of ${SUFFIXES})`);
  const number = Number(m[1]);
  const suffix = m[2];
  if (suffix in BINARY) return number * BINARY[suffix];
  if (suffix in DECIMAL) return number * DECIMAL[suffix];
  const exp = /^[eE]([+-]?\d+)$/.exec(suffix);
  if (exp) return number * 10 ** Number(exp[1]);
  throw new InvalidInputError(where, `"${value}" has unknown unit "${suffix}" (Kubernetes quantities use ${SUFFIXES})`);
}

/** A CPU quantity in millicores: "100m" → 100, "1" → 1000, "0.5" → 500. */
export function cpuMillicores(value: string | number, where: string): number {
  const cores = parseQuantity(value, where);
  if (cores < 0) throw new InvalidInputError(where, `CPU "${value}" is negative`);
  // Kubernetes rounds CPU up to whole millicores; so do we (after removing float noise such as 0.1·1000 = 100.00000000000001).
  return Math.ceil(Number((cores * 1000).toPrecision(12)));
}

/** A memory quantity in MiB: "64Mi" → 64, "1Gi" → 1024, "128M" → 122.0703125 (128·10^6 bytes). */
export function memoryMiB(value: string | number, where: string): number {
  if (typeof value === 'string' && /^[+-]?(?:\d+\.?\d*|\.\d+)[num]$/.test(value)) {
    // Valid Kubernetes, but "128m" is 0.128 bytes: always a typo for 128Mi or 128M.
    throw new InvalidInputError(where, `memory "${value}" is in ${value.endsWith('m') ? 'milli' : value.endsWith('u') ? 'micro' : 'nano'}bytes; did you mean "${value.slice(0, -1)}Mi" (mebibytes) or "${value.slice(0, -1)}M" (megabytes)?`);
  }
  const bytes = parseQuantity(value, where);
  if (bytes < 0) throw new InvalidInputError(where, `memory "${value}" is negative`);
  return bytes / 2 ** 20;
}

/** Like `parseQuantity`, but undefined for text that is not a quantity (values read back from a cluster). */
export function tryParseQuantity(text: string): number | undefined {
  return orUndefined(() => parseQuantity(text, 'quantity'));
}

/** Like `cpuMillicores`, but undefined when the text is not a CPU quantity. */
export function cpuMillicoresOf(text: string): number | undefined {
  return orUndefined(() => cpuMillicores(text, 'cpu'));
}

/** Like `memoryMiB`, but undefined when the text is not a memory quantity. */
export function memoryMiBOf(text: string): number | undefined {
  return orUndefined(() => memoryMiB(text, 'memory'));
}

function orUndefined(read: () => number): number | undefined {
  try {
    return read();
  } catch (e) {
    if (isUserError(e)) return undefined;
    throw e;
  }
}

/** Millicores as a CPU quantity: "250m", or whole cores ("2") when exact. */
export function cpuQuantity(cpuMillicores: number): string {
  if (!Number.isInteger(cpuMillicores) || cpuMillicores < 0) throw new RangeError(`CPU must be a whole number of millicores, got ${cpuMillicores}`);
  return cpuMillicores % 1000 === 0 ? String(cpuMillicores / 1000) : `${cpuMillicores}m`;
}

/** MiB as a memory quantity: "64Mi", "2Gi" when exact, or bytes for fractional MiB. */
export function memoryQuantity(memoryMiB: number): string {
  if (!(memoryMiB >= 0) || !Number.isFinite(memoryMiB)) throw new RangeError(`memory must be 0 MiB or more, got ${memoryMiB}`);
  if (Number.isInteger(memoryMiB)) return memoryMiB % 1024 === 0 && memoryMiB > 0 ? `${memoryMiB / 1024}Gi` : `${memoryMiB}Mi`;
  return String(Math.round(memoryMiB * 2 ** 20));
}
