/**
 * Contention: who gives way when capacity or budget is short.
 *
 * Order: guaranteed minimums are hard (never given up); above them, shortfall is
 * priced per instance and step by *effective* priority, where priority rules
 * (time windows, emergency flags) override a workload's base priority. The
 * prices grow by level so that one instance of a higher level is worth more
 * than every set of lower-level instances that must be evicted to make room
 * for it (see `levelPenalties`): a higher effective priority never loses
 * capacity to a lower one.
 */
import type { Resources } from '../core/model.ts';

/**
 * Overrides the priority of some workloads while it applies: during hours of
 * the day [fromHour, toHour) (wrapping past midnight when fromHour > toHour),
 * and/or while `flag` is among the active flags (e.g. `emergency`). Later rules
 * win over earlier ones.
 */
export interface PriorityRule {
  readonly name: string;
  readonly workloads: readonly string[];
  readonly priority: number;
  readonly hours?: { readonly fromHour: number; readonly toHour: number };
  readonly flag?: string;
}

export function hourInWindow(hour: number, fromHour: number, toHour: number): boolean {
  const h = ((hour % 24) + 24) % 24;
  return fromHour <= toHour ? h >= fromHour && h < toHour : h >= fromHour || h < toHour;
}

export function ruleApplies(rule: PriorityRule, hourOfDay: number, activeFlags: ReadonlySet<string>): boolean {
  if (rule.flag !== undefined && !activeFlags.has(rule.flag)) return false;
  if (rule.hours && !hourInWindow(hourOfDay, rule.hours.fromHour, rule.hours.toHour)) return false;
  return true;
}

/** Effective priority of a workload at an hour of the day: the last applicable rule naming it, else its own. */
export function effectivePriority(
  workload: string,
  basePriority: number,
  rules: readonly PriorityRule[],
  hourOfDay: number,
  activeFlags: ReadonlySet<string>,
): { priority: number; rule?: string } {
  let result: { priority: number; rule?: string } = { priority: basePriority };
  for (const rule of rules) {
    if (rule.workloads.includes(workload) && ruleApplies(rule, hourOfDay, activeFlags)) result = { priority: rule.priority, rule: rule.name };
  }
  return result;
}

export interface PricedWorkload {
  readonly priority: number;
  readonly perInstance: Resources;
}

const RESOURCES = ['cpuMillicores', 'memoryMiB', 'networkMbps'] as const;

/**
 * Instances of the smallest lower-level workload to evict to free one instance
 * of the largest member, resource by resource (an upper bound on every pair's
 * ⌈r_w / r_v⌉ sum, computed in linear time).
 */
function evictionsToFree(members: readonly PricedWorkload[], lower: readonly PricedWorkload[]): number {
  let total = 0;
  for (const r of RESOURCES) {
    const largest = Math.max(0, ...members.map((w) => w.perInstance[r] ?? 0));
    const positive = lower.map((v) => v.perInstance[r] ?? 0).filter((x) => x > 0);
    if (largest > 0 && positive.length) total += Math.ceil(largest / Math.min(...positive));
  }
  return total;
}

/**
 * Shortfall penalty per missing instance, by index, for one step.
 * `base` must exceed everything one more placed instance can cost (its share
 * of a node, migration, churn, pool creation), so buying capacity beats
 * shortfall while quota and budget remain. Each level's penalty exceeds the
 * penalties of the lower-level instances that must be evicted to free one of
 * its instances in every resource (⌈cpu_w/cpu_v⌉ + ⌈mem_w/mem_v⌉ (+ network)).
 */
export function levelPenalties(workloads: readonly PricedWorkload[], base: number): number[] {
  const levels = [...new Set(workloads.map((w) => w.priority))].sort((a, b) => a - b);
  const penaltyByLevel = new Map<number, number>();
  const lower: PricedWorkload[] = [];
  let previous = 0;
  for (const level of levels) {
    const members = workloads.filter((w) => w.priority === level);
    const evictions = lower.length ? evictionsToFree(members, lower) : 0;
    const penalty = Math.max(base, previous * Math.max(1, evictions) + base);
    penaltyByLevel.set(level, penalty);
    previous = penalty;
    for (const m of members) lower.push(m);
  }
  return workloads.map((w) => penaltyByLevel.get(w.priority) ?? base);
}
