/**
 * Address plans for pools: every pool's pod range is an IPv4 CIDR block inside
 * the scenario's parent range, no two pools' ranges overlap, and each range
 * holds the pool's most nodes × the per-node block. A new pool gets the first
 * free aligned block of the size it needs.
 *
 * Per-node blocks follow Kubernetes' node IPAM (kube-controller-manager
 * `--node-cidr-mask-size`): each node gets an aligned power-of-two block for
 * its pods, so a node running up to 110 pods takes 128 addresses, and a pool
 * of n nodes needs n such blocks.
 *
 * Parsing and validation of addresses is ipaddr.js's; overlap and the free
 * block search are integer arithmetic on the 32-bit addresses (aligned blocks
 * either nest or are disjoint).
 */
import ipaddr from 'ipaddr.js';
import { InfeasibleError, InvalidInputError } from '../core/errors.ts';
import type { PoolNetworkConfig } from '../core/plan.ts';

const ADDRESSES_IPV4 = 2 ** 32;

/** An IPv4 block: first address as an unsigned 32-bit integer, and its size in addresses. */
export interface AddressRange {
  readonly cidr: string;
  readonly start: number;
  readonly size: number;
  readonly prefix: number;
}

/** A pool's range with what it must hold. */
export interface PoolRange {
  readonly pool: string;
  readonly range: AddressRange;
  readonly maxNodes: number;
  readonly podsPerNode: number;
}

function toUint(bytes: readonly number[]): number {
  return ((bytes[0] << 24) >>> 0) + (bytes[1] << 16) + (bytes[2] << 8) + bytes[3];
}

function fromUint(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parse an IPv4 CIDR block; its address must be the block's first (host bits zero). */
export function parseRange(cidr: string, where: string): AddressRange {
  const text = cidr.trim();
  if (!ipaddr.IPv4.isValidCIDRFourPartDecimal(text)) {
    throw new InvalidInputError(where, `"${cidr}" is not an IPv4 range in CIDR notation (e.g. "10.1.0.0/20")`);
  }
  const [address, prefix] = ipaddr.IPv4.parseCIDR(text);
  const network = ipaddr.IPv4.networkAddressFromCIDR(text).toString();
  if (network !== address.toString()) {
    throw new InvalidInputError(where, `"${cidr}" has host bits set; the /${prefix} block containing it starts at ${network} ("${network}/${prefix}")`);
  }
  return { cidr: `${network}/${prefix}`, start: toUint(address.toByteArray()), size: 2 ** (32 - prefix), prefix };
}

/** Addresses one node's block takes: `podsPerNode` rounded up to a power of two. */
export function nodeBlockAddresses(podsPerNode: number): number {
  if (!(Number.isInteger(podsPerNode) && podsPerNode >= 1)) throw new InvalidInputError('podsPerNode', `must be an integer ≥ 1, got ${podsPerNode}`);
  return 2 ** Math.ceil(Math.log2(podsPerNode));
}

/** Addresses a pool of `maxNodes` nodes may need. */
export function neededAddresses(maxNodes: number, podsPerNode: number): number {
  return maxNodes * nodeBlockAddresses(podsPerNode);
}

export function overlaps(a: AddressRange, b: AddressRange): boolean {
  return a.start < b.start + b.size && b.start < a.start + a.size;
}

export function contains(outer: AddressRange, inner: AddressRange): boolean {
  return inner.start >= outer.start && inner.start + inner.size <= outer.start + outer.size;
}

/**
 * Check pools' ranges against the parent and each other: each inside the
 * parent, no two overlapping (the message names both pools and ranges), each
 * large enough for its most nodes (else exhaustion: the pool could not grow to
 * its quota).
 */
export function checkPoolRanges(parent: AddressRange, pools: readonly PoolRange[], where = 'network'): void {
  for (const p of pools) {
    if (!contains(parent, p.range)) {
      throw new InvalidInputError(`${where}: pool "${p.pool}"`, `range ${p.range.cidr} is not inside the parent range ${parent.cidr}`);
    }
    const need = neededAddresses(p.maxNodes, p.podsPerNode);
    if (p.range.size < need) {
      const block = nodeBlockAddresses(p.podsPerNode);
      throw new InvalidInputError(
        `${where}: pool "${p.pool}"`,
        `range ${p.range.cidr} is exhausted: it holds ${p.range.size} addresses, ${Math.floor(p.range.size / block)} nodes of ${block} (${p.podsPerNode} pods per node), but the pool may grow to ${p.maxNodes} nodes (${need} addresses); use a /${prefixFor(need)} or larger`,
      );
    }
  }
  for (let i = 0; i < pools.length; i++) {
    for (let j = i + 1; j < pools.length; j++) {
      const a = pools[i];
      const b = pools[j];
      if (overlaps(a.range, b.range)) {
        throw new InvalidInputError(`${where}: pool "${b.pool}"`, `range ${b.range.cidr} of pool "${b.pool}" overlaps range ${a.range.cidr} of pool "${a.pool}"`);
      }
    }
  }
}

/** Longest prefix whose block holds `addresses`. */
export function prefixFor(addresses: number): number {
  return 32 - Math.ceil(Math.log2(Math.max(1, addresses)));
}

/**
 * The first free aligned block of `addresses` (rounded up to a power of two)
 * inside `parent` that overlaps none of `taken`; `InfeasibleError` naming the
 * parent, the size and the taken ranges when the address space is exhausted.
 */
export function assignRange(parent: AddressRange, taken: readonly { readonly pool: string; readonly range: AddressRange }[], addresses: number, forPool: string): AddressRange {
  const prefix = prefixFor(addresses);
  const size = 2 ** (32 - prefix);
  const sorted = [...taken].filter((t) => overlaps(t.range, parent)).sort((a, b) => a.range.start - b.range.start);
  if (size <= parent.size) {
    let candidate = parent.start;
    for (const t of sorted) {
      if (candidate + size <= t.range.start) break;
      // Skip past this range, to the next boundary aligned to the block size.
      const end = t.range.start + t.range.size;
      if (end > candidate) candidate = Math.ceil(end / size) * size;
    }
    if (candidate + size <= parent.start + parent.size && candidate + size <= ADDRESSES_IPV4) {
      return { cidr: `${fromUint(candidate)}/${prefix}`, start: candidate, size, prefix };
    }
  }
  const used = sorted.reduce((s, t) => s + t.range.size, 0);
  throw new InfeasibleError(`address range ${parent.cidr} is exhausted: no free /${prefix} (${size} addresses) for pool "${forPool}"`, [
    `${parent.cidr} holds ${parent.size} addresses, ${used} taken`,
    ...sorted.map((t) => `pool "${t.pool}" holds ${t.range.cidr}`),
  ]);
}

/** Network configuration of a pool being created, its range taken from the free space of `parent`. */
export function newPoolNetwork(
  pool: { readonly name: string; readonly maxNodes: number; readonly network?: { readonly segment?: string; readonly cidr?: string; readonly podsPerNode?: number } },
  parent: AddressRange,
  defaultPodsPerNode: number,
  taken: readonly { readonly pool: string; readonly range: AddressRange }[],
): PoolNetworkConfig {
  const podsPerNode = pool.network?.podsPerNode ?? defaultPodsPerNode;
  const need = neededAddresses(pool.maxNodes, podsPerNode);
  let range: AddressRange;
  if (pool.network?.cidr) {
    range = parseRange(pool.network.cidr, `pool "${pool.name}" network.cidr`);
    checkPoolRanges(parent, [...taken.map((t) => ({ ...t, maxNodes: 0, podsPerNode: 1 })), { pool: pool.name, range, maxNodes: pool.maxNodes, podsPerNode }]);
  } else {
    range = assignRange(parent, taken, need, pool.name);
  }
  return { segment: pool.network?.segment ?? `${pool.name}-pods`, cidr: range.cidr, podsPerNode, addresses: range.size, neededAddresses: need };
}

/**
 * Ranges in use, with new pools' ranges taken from the parent's free space
 * and given back when a pool is dismantled.
 */
export class NetworkPlanner {
  private readonly taken = new Map<string, { readonly pool: string; readonly range: AddressRange }>();

  constructor(
    readonly parent: AddressRange,
    readonly defaultPodsPerNode: number,
    existing: readonly { readonly pool: string; readonly range: AddressRange }[] = [],
  ) {
    for (const e of existing) this.taken.set(e.pool, e);
  }

  /** Validated configuration for a pool being created; its range is taken until `release`. */
  configFor(pool: Parameters<typeof newPoolNetwork>[0]): PoolNetworkConfig {
    const config = newPoolNetwork(pool, this.parent, this.defaultPodsPerNode, [...this.taken.values()].filter((t) => t.pool !== pool.name));
    this.taken.set(pool.name, { pool: pool.name, range: parseRange(config.cidr, `pool "${pool.name}"`) });
    return config;
  }

  release(pool: string): void {
    this.taken.delete(pool);
  }

  /** Ranges in use, by pool. */
  ranges(): Record<string, string> {
    return Object.fromEntries([...this.taken].map(([p, t]) => [p, t.range.cidr]));
  }
}
