/**
 * Capacity specifications in the units people write them in, normalised once
 * at the boundary into headroom's canonical units:
 *   CPU        -> millicores (1 core = 1 vCPU = 1000 millicores)
 *   memory     -> MiB (decimal B/KB/MB/GB/TB are 10^3 steps, binary KiB/MiB/GiB/TiB 2^10 steps)
 *   bandwidth  -> Mbit/s (decimal: 1 Gbit/s = 1000 Mbit/s)
 * A number means the canonical unit of the field it is in (`cpuMillicores: 500`
 * is 500 millicores, as before). For CPU a unit-less string means cores, as
 * Kubernetes writes it (`cpu: "4"`); in a field whose name says millicores that
 * reading would be a trap, so there a unit-less string is rejected as ambiguous.
 *
 * Hand-written rather than js-quantities/convert-units: those know bytes and
 * bits but not cores, vCPU or Kubernetes' "500m", and accept far more units than
 * a capacity field should (a typo like "4 Gb" for memory must be rejected, not
 * read as gigabits).
 */

import { InvalidInputError } from '../core/errors.ts';

export type Quantity = number | string;

interface UnitTable {
  /** What the canonical unit is called in messages. */
  readonly canonical: string;
  /** Unit spelling (case-sensitive where case matters, e.g. "m" vs "M") -> canonical units per unit. */
  readonly units: ReadonlyMap<string, number>;
  /** Lower-cased aliases that are unambiguous regardless of case. */
  readonly caseless: ReadonlyMap<string, number>;
  /** Spellings listed in error messages. */
  readonly accepted: readonly string[];
}

function table(canonical: string, exact: Record<string, number>, caseless: Record<string, number>, accepted: readonly string[]): UnitTable {
  return {
    canonical,
    units: new Map(Object.entries(exact)),
    caseless: new Map(Object.entries(caseless).map(([k, v]) => [k.toLowerCase(), v])),
    accepted,
  };
}

const MIB = 1024 * 1024;

/** CPU: canonical millicores. */
export const CPU_UNITS = table(
  'millicores',
  { m: 1 },
  {
    core: 1000,
    cores: 1000,
    cpu: 1000,
    cpus: 1000,
    vcpu: 1000,
    vcpus: 1000,
    millicore: 1,
    millicores: 1,
    millicpu: 1,
  },
  ['cores', 'vCPU', 'm', 'millicores'],
);

/** Memory: canonical MiB. Decimal units are powers of 1000 bytes, binary ones powers of 1024 (IEC). */
export const MEMORY_UNITS = table(
  'MiB',
  {
    // Decimal byte units need the capital B: "Gb" is gigabits, not memory.
    B: 1 / MIB,
    kB: 1e3 / MIB,
    KB: 1e3 / MIB,
    MB: 1e6 / MIB,
    GB: 1e9 / MIB,
    TB: 1e12 / MIB,
    // Kubernetes' spellings: K/M/G/T decimal, Ki/Mi/Gi/Ti binary.
    K: 1e3 / MIB,
    M: 1e6 / MIB,
    G: 1e9 / MIB,
    T: 1e12 / MIB,
    Ki: 1 / 1024,
    Mi: 1,
    Gi: 1024,
    Ti: 1024 * 1024,
  },
  {
    byte: 1 / MIB,
    bytes: 1 / MIB,
    // Binary units cannot be mistaken for bits in any case.
    kib: 1 / 1024,
    mib: 1,
    gib: 1024,
    tib: 1024 * 1024,
  },
  ['B', 'KB', 'MB', 'GB', 'TB', 'KiB', 'MiB', 'GiB', 'TiB'],
);

/** Bandwidth: canonical Mbit/s; all prefixes decimal, as networking uses them. */
export const BANDWIDTH_UNITS = table(
  'Mbit/s',
  {},
  {
    'bit/s': 1e-6,
    bps: 1e-6,
    'kbit/s': 1e-3,
    kbps: 1e-3,
    'mbit/s': 1,
    mbps: 1,
    'gbit/s': 1e3,
    gbps: 1e3,
  },
  ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'bps', 'Kbps', 'Mbps', 'Gbps'],
);

const QUANTITY = /^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z/]*)\s*$/;

function lookup(t: UnitTable, unit: string): number | undefined {
  return t.units.get(unit) ?? t.caseless.get(unit.toLowerCase());
}

/**
 * `value` in the canonical unit of `units`. A number, or a string with no
 * unit, is taken as `bareUnit` (canonical units per bare unit). Rejects
 * unknown units, negative, non-finite and malformed values with an
 * InvalidInputError naming `field`, the value and the accepted units.
 */
export function normalizeQuantity(value: Quantity, units: UnitTable, field: string, bareUnit = 1, bareStringUnit: number | 'reject' = bareUnit): number {
  const reject = (problem: string): never => {
    throw new InvalidInputError(field, `${problem}; accepted units: ${units.accepted.join(', ')} (a plain number means ${bareUnit === 1 ? units.canonical : 'the unit of the field'})`);
  };
  let amount: number;
  let factor: number;
  if (typeof value === 'number') {
    amount = value;
    factor = bareUnit;
  } else {
    const m = QUANTITY.exec(value);
    if (!m) return reject(`"${value}" is not a number with a unit`);
    amount = Number(m[1]);
    if (m[2] === '') {
      if (bareStringUnit === 'reject') return reject(`"${value}" has no unit and is ambiguous here (write e.g. "${m[1]} cores" or "${m[1]}m", or a plain number for ${units.canonical})`);
      factor = bareStringUnit;
    } else {
      const f = lookup(units, m[2]);
      if (f === undefined) return reject(`"${value}" has unknown unit "${m[2]}"`);
      factor = f;
    }
  }
  if (!Number.isFinite(amount)) return reject(`"${value}" is not a finite number`);
  if (amount < 0) return reject(`"${value}" is negative`);
  return amount * factor;
}

/**
 * CPU in millicores. In a field named for millicores (`bare: 'millicores'`,
 * the default) a number is millicores and a unit-less string is rejected;
 * in a plain CPU field (`bare: 'cores'`) both mean cores.
 */
export function parseCpuMillicores(value: Quantity, field: string, bare: 'millicores' | 'cores' = 'millicores'): number {
  return bare === 'cores' ? normalizeQuantity(value, CPU_UNITS, field, 1000) : normalizeQuantity(value, CPU_UNITS, field, 1, 'reject');
}

/** Memory in MiB (a bare number is MiB). */
export function parseMemoryMiB(value: Quantity, field: string): number {
  return normalizeQuantity(value, MEMORY_UNITS, field);
}

/** Bandwidth in Mbit/s (a bare number is Mbit/s). */
export function parseNetworkMbps(value: Quantity, field: string): number {
  return normalizeQuantity(value, BANDWIDTH_UNITS, field);
}
