/**
 * Kubernetes resource quantities ("250m", "0.5", "64Mi", "1e3", "1.5Gi") to
 * numbers and back, for CPU (millicores) and memory (MiB). Hand-written
 * because @kubernetes/client-node does not export its parser (and that one
 * rejects fractional binary quantities such as "1.5Gi"); the grammar is the
 * API server's (k8s.io/apimachinery resource.Quantity):
 *   <sign><digits>[.<digits>](<binarySI> | <decimalSI> | e<signed int>)
 */

const QUANTITY = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:(Ki|Mi|Gi|Ti|Pi|Ei)|(n|u|m|k|M|G|T|P|E)|[eE]([+-]?[0-9]+))?$/;

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** The quantity's value in base units (cores, bytes), or undefined when it is not a quantity. */
export function parseQuantity(text: string): number | undefined {
  const m = QUANTITY.exec(text.trim());
  if (!m || text.trim() !== text) return undefined;
  const value = Number(m[1]);
  if (m[2]) return value * BINARY[m[2]];
  if (m[3]) return value * DECIMAL[m[3]];
  if (m[4]) return value * 10 ** Number(m[4]);
  return value;
}

/** CPU quantity to millicores (rounded up to a whole millicore, as the API server rounds). */
export function cpuMillicoresOf(text: string): number | undefined {
  const cores = parseQuantity(text);
  return cores === undefined ? undefined : Math.ceil(Math.round(cores * 1e6) / 1e3);
}

/** Memory quantity to MiB (fractional when not a whole number of MiB). */
export function memoryMiBOf(text: string): number | undefined {
  const bytes = parseQuantity(text);
  return bytes === undefined ? undefined : bytes / 2 ** 20;
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
