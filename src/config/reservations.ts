/**
 * The `reservations:` block of a scenario in domain form, cross-checked against
 * pools, agreements, accounts and the simulation's decision interval.
 */
import type { Agreement } from '../core/billing.ts';
import { InfeasibleError, InvalidInputError } from '../core/errors.ts';
import type { Account, Pool, Resources, Workload } from '../core/model.ts';
import type { AccountReservationSettings, ReservationSettings } from '../core/reservations.ts';
import { checkReservationRule } from '../optimize/reservations.ts';
import type { ReservationsFile } from './schema.ts';

/** Node-equivalents of one instance: its dominant share of a node (the larger of its CPU and memory shares). */
export function nodeShare(perInstance: Resources, node: Resources): number {
  return Math.max(perInstance.cpuMillicores / node.cpuMillicores, perInstance.memoryMiB / node.memoryMiB);
}

/** An account's guaranteed instances as nodes: the instances of its largest workload (by node share), rounded up. */
export function guaranteedNodesOf(account: Account, workloads: readonly Workload[], node: Resources): number {
  const shares = workloads.filter((w) => w.account === account.name).map((w) => nodeShare(w.perInstance, node));
  if (shares.length === 0 || account.guaranteedInstances === 0) return 0;
  return Math.ceil(account.guaranteedInstances * Math.max(...shares) - 1e-9);
}

export function buildReservations(
  file: ReservationsFile,
  ctx: { pools: readonly Pool[]; agreements?: readonly Agreement[]; accounts: readonly Account[]; workloads: readonly Workload[]; decisionIntervalSeconds: number },
  where: string,
): ReservationSettings {
  const at = `${where}: reservations`;
  const covered = new Map<string, string>();
  for (const a of ctx.agreements ?? []) for (const p of a.pools ?? ctx.pools.filter((q) => q.provider === a.provider).map((q) => q.name)) covered.set(p, a.name);
  const pools: Pool[] = [];
  file.pools.forEach((name, i) => {
    const pool = ctx.pools.find((p) => p.name === name);
    if (!pool) throw new InvalidInputError(`${at}.pools[${i}]`, `pool "${name}" is not in pools`);
    if (pools.some((p) => p.name === name)) throw new InvalidInputError(`${at}.pools[${i}]`, `pool "${name}" is listed twice`);
    if (pool.committedCostPerHour === undefined) throw new InvalidInputError(`${at}.pools[${i}]`, `pool "${name}" has no committed price (give committedCostPerHour, or committed rates on its provider)`);
    if (covered.has(name)) throw new InvalidInputError(`${at}.pools[${i}]`, `pool "${name}" is billed under agreement "${covered.get(name)}", whose own commitment prices committed capacity; reserving it too would bill it twice`);
    const first = pools[0]?.nodeType.capacity;
    const cap = pool.nodeType.capacity;
    if (first && (first.cpuMillicores !== cap.cpuMillicores || first.memoryMiB !== cap.memoryMiB)) {
      throw new InvalidInputError(`${at}.pools[${i}]`, `pool "${name}" has nodes of ${cap.cpuMillicores}m CPU and ${cap.memoryMiB} MiB, unlike "${pools[0].name}" (${first.cpuMillicores}m, ${first.memoryMiB} MiB); a reservation counts nodes of one shape`);
    }
    pools.push(pool);
  });
  const reviewIntervalSeconds = file.reviewIntervalSeconds ?? ctx.decisionIntervalSeconds;
  if (reviewIntervalSeconds % ctx.decisionIntervalSeconds !== 0) {
    throw new InvalidInputError(`${at}.reviewIntervalSeconds`, `must be a multiple of simulation.decisionIntervalSeconds (${ctx.decisionIntervalSeconds} s), got ${reviewIntervalSeconds} s`);
  }
  const maxReservedNodesByPool: Record<string, number> = {};
  for (const pool of pools) maxReservedNodesByPool[pool.name] = pool.maxNodes;
  for (const [name, n] of Object.entries(file.maxReservedNodes)) {
    if (!(name in maxReservedNodesByPool)) throw new InvalidInputError(`${at}.maxReservedNodes.${name}`, `"${name}" is not one of the reservation pools (${file.pools.join(', ')})`);
    maxReservedNodesByPool[name] = n;
  }
  const node = pools[0].nodeType.capacity;
  const accountNames = new Set(ctx.accounts.map((a) => a.name));
  for (const name of Object.keys(file.accounts)) {
    if (!accountNames.has(name)) throw new InvalidInputError(`${at}.accounts.${name}`, `"${name}" is not in accounts`);
  }
  const accounts: Record<string, AccountReservationSettings> = {};
  for (const a of ctx.accounts) {
    const given = file.accounts[a.name];
    const settings = { initialNodes: given?.initialNodes ?? 0, minNodes: given?.minNodes ?? 0, guaranteedNodes: given?.guaranteedNodes ?? guaranteedNodesOf(a, ctx.workloads, node) };
    checkReservationRule({ raiseShare: file.raiseShare, releaseShare: file.releaseShare, releaseAfterSeconds: file.releaseAfterSeconds, targetShare: file.targetShare, minNodes: settings.minNodes }, at);
    if (settings.initialNodes < settings.minNodes) throw new InvalidInputError(`${at}.accounts.${a.name}.initialNodes`, `${settings.initialNodes} is below minNodes ${settings.minNodes}`);
    accounts[a.name] = settings;
  }
  // Guarantees must fit whichever pool they land in (the zone split may put all of them in one).
  const guaranteed = Object.values(accounts).reduce((s, a) => s + (a.guaranteedNodes ?? 0), 0);
  const smallest = Math.min(...Object.values(maxReservedNodesByPool));
  if (guaranteed > smallest) {
    throw new InfeasibleError(
      `${at}: guaranteed reservations add up to ${guaranteed} nodes, more than the ${smallest} that may be reserved in the smallest pool`,
      Object.entries(accounts).filter(([, s]) => (s.guaranteedNodes ?? 0) > 0).map(([n, s]) => `${n}: ${s.guaranteedNodes} guaranteed nodes`),
    );
  }
  return {
    pools: pools.map((p) => p.name),
    reviewIntervalSeconds,
    raiseShare: file.raiseShare,
    releaseShare: file.releaseShare,
    releaseAfterSeconds: file.releaseAfterSeconds,
    targetShare: file.targetShare,
    maxReservedNodesByPool,
    ...(file.breakEven === false ? {} : { breakEven: { margin: file.breakEven === true ? 0 : file.breakEven.margin } }),
    accounts,
  };
}
