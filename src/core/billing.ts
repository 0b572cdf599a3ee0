/**
 * Domain types of the resource side's money: prices per resource, partner
 * agreements (rate cards with tiers, commitments, caps) and billing periods.
 * Amounts are in the scenario's currency; quantities in unit-hours.
 */

/** Whether a provider or pool can be used (a failing one is to be excluded from plans). */
export type Health = 'healthy' | 'failing';

/** The resources a rate card prices, each per hour of use. */
export type BilledResource = 'nodeHours' | 'vcpuHours' | 'gibHours';

export const BILLED_RESOURCES: readonly BilledResource[] = ['nodeHours', 'vcpuHours', 'gibHours'];

/** Prices per resource-hour (a node's price is the sum over its resources). */
export interface ResourceRates {
  /** Price of one vCPU (1000 millicores) for one hour. */
  readonly perVcpuHour?: number;
  /** Price of one GiB (1024 MiB) of memory for one hour. */
  readonly perGibHour?: number;
}

/** A provider's list prices: on demand, and for capacity committed ahead (reservations). */
export interface ProviderRates {
  readonly onDemand?: ResourceRates;
  readonly committed?: ResourceRates;
}

/**
 * One band of a graduated rate card: units beyond the previous band's `upTo`
 * and up to this `upTo` (cumulative units in the period) cost `rate` each.
 * The last band has no `upTo`.
 */
export interface RateTier {
  readonly upTo?: number;
  readonly rate: number;
}

/**
 * How the period an agreement bills over is cut:
 * - `replay`: the whole replayed (or metered) span is one period;
 * - `month`: calendar months in UTC;
 * - `fixed`: consecutive periods of `seconds`, aligned to the Unix epoch (a whole number of hours).
 */
export type BillingPeriod = { readonly kind: 'replay' } | { readonly kind: 'month' } | { readonly kind: 'fixed'; readonly seconds: number };

/** Pay at least this much per period: spend (`minSpend`) or units of one resource (`minUnits`). */
export type Commitment =
  | { readonly kind: 'spend'; readonly minSpend: number }
  | { readonly kind: 'units'; readonly resource: BilledResource; readonly minUnits: number; readonly shortfallRate: number };

/**
 * The most an agreement allows per period. Usage beyond a cap is not refused
 * (the simulator never stops capacity for billing reasons); it is billed:
 * - `units`: units of `resource` beyond `maxUnits` cost `overageRate` each
 *   instead of the rate card's (undefined: the rate card's rate, alert only);
 * - `spend`: spend beyond `maxSpend` carries a surcharge of (overageMultiplier − 1) × the excess.
 */
export type Cap =
  | { readonly kind: 'units'; readonly resource: BilledResource; readonly maxUnits: number; readonly overageRate?: number }
  | { readonly kind: 'spend'; readonly maxSpend: number; readonly overageMultiplier: number };

/** An agreement with a provider (usually a partner) over some or all of its pools. */
export interface Agreement {
  readonly name: string;
  readonly provider: string;
  /** Pools covered; all of the provider's pools when absent. */
  readonly pools?: readonly string[];
  readonly currency: string;
  readonly period: BillingPeriod;
  /** Graduated rate card per resource; resources not listed are not charged. */
  readonly rates: Readonly<Partial<Record<BilledResource, readonly RateTier[]>>>;
  readonly commitment?: Commitment;
  readonly cap?: Cap;
  /** Share of a limit (0..1) at which an alert warns that usage nears it. */
  readonly alertShare: number;
}

/** Scenario-wide billing settings. */
export interface BillingSettings {
  readonly currency: string;
  /** Period of the on-demand invoices of pools no agreement covers. */
  readonly onDemandPeriod: BillingPeriod;
}

/**
 * What ran during one interval of (simulated or observed) time, for metering: nodes billed
 * (ready or provisioning) and instances running, both constant over
 * [startSeconds, endSeconds).
 */
export interface UsageInterval {
  readonly startSeconds: number;
  readonly endSeconds: number;
  readonly nodesByPool: Readonly<Record<string, number>>;
  /** workload -> pool -> running instances. */
  readonly runningInstances: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Nodes reserved (committed, paid whether used or not) per pool; absent when nothing was ever reserved. */
  readonly reservedNodesByPool?: Readonly<Record<string, number>>;
}
