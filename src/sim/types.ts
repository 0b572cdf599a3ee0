/** Results of replaying one scenario under several policies. */
import type { PoolReport } from './pools.ts';
import type { Alert, Invoice } from '../billing/invoice.ts';
import type { UsageRecord } from '../billing/meter.ts';
import type { ReservationChange } from '../core/reservations.ts';

export type PolicyName = 'static' | 'reactive' | 'predictive' | 'oracle';

/** Per-step series of one policy's run (one value per evaluated step). */
export interface PolicyTimeline {
  /** Epoch seconds of each evaluated step's start. */
  readonly timeSeconds: readonly number[];
  /** workload -> requests per second the workload could serve (usable instances × per-instance capacity), step mean. */
  readonly capacityRps: Readonly<Record<string, readonly number[]>>;
  /** workload -> usable (running) instances, step mean. */
  readonly instances: Readonly<Record<string, readonly number[]>>;
  /** workload -> instances needed to hold the SLO at the actual demand (the SPEC "demand" curve). */
  readonly requiredInstances: Readonly<Record<string, readonly number[]>>;
  /** workload -> share of the step's requests served within the SLO (0..1). */
  readonly sloAttainment: Readonly<Record<string, readonly number[]>>;
  /** pool -> nodes billed (ready or provisioning), step mean. */
  readonly nodes: Readonly<Record<string, readonly number[]>>;
  /** Cost rate of all nodes billed in the step, per hour. */
  readonly costPerHour: readonly number[];
}

/**
 * Metrics of one policy. Under-/over-provisioning follow the SPEC Research
 * Group's elasticity metrics (Herbst et al., "Quantifying Cloud Performance and
 * Dependability", ACM TOMPECS 2018): time shares in which supplied instances
 * are below/above the instances required, and the average relative amount.
 */
export interface PolicyMetrics {
  readonly name: PolicyName;
  /** Money spent on nodes over the evaluated span (scenario currency). */
  readonly cost: number;
  readonly nodeHours: number;
  /** Share of all requests served within their SLO (0..1), demand-weighted over workloads. */
  readonly sloAttainment: number;
  /** Share of (workload, step) pairs in which the SLO was violated (attainment < the SLO's percentile). */
  readonly violationStepShare: number;
  readonly underProvisionedTimeShare: number;
  readonly overProvisionedTimeShare: number;
  /** Mean of max(required - supplied, 0) / required over time (SPEC θ_U), 0..1. */
  readonly underProvisionedAmount: number;
  /** Mean of max(supplied - required, 0) / required over time (SPEC θ_O). */
  readonly overProvisionedAmount: number;
  /** Scaling actions the policy issued (node and instance count changes). */
  readonly actions: number;
}

/** What one policy's run metered and what it was billed. */
export interface PolicyBilling {
  /** Hourly usage per provider, pool and account. */
  readonly usage: readonly UsageRecord[];
  readonly invoices: readonly Invoice[];
  readonly alerts: readonly Alert[];
  /** The run's cost at every pool's on-demand costPerHour (what `cost` is when no agreement applies). */
  readonly onDemandCost: number;
}

export interface PolicyResult {
  readonly metrics: PolicyMetrics;
  readonly timeline: PolicyTimeline;
  /** Metering and invoices of the run; `metrics.cost` equals the invoices' total within a cent. */
  readonly billing?: PolicyBilling;
  /** Reservation changes and reserved vs used per account, when the scenario has `reservations:` and the policy applies them. */
  readonly reservations?: ReservationReport;
  /** Pool changes (life cycle, health), fragmentation, idle capacity and throttling of the run. */
  readonly pools?: PoolReport;
}

/** One account's reservations over the run, against its use of the reservation pools. */
export interface AccountReservationSummary {
  readonly account: string;
  readonly group?: string;
  /** Node-hours reserved (paid at the committed price, used or not). */
  readonly reservedNodeHours: number;
  /** Node-hours its workloads used in the reservation pools (the meter's attribution). */
  readonly usedNodeHours: number;
  /** What its reservations cost at the committed prices. */
  readonly reservedCost: number;
  /** Changes of its reservations (raises, releases, contention). */
  readonly changes: number;
}

/** A group's forecast at one review: reconciled from its members (not a sum of their quantiles). */
export interface GroupForecastPoint {
  readonly timeSeconds: number;
  readonly group: string;
  /** Peak over the horizon of the group's upper bound (node-equivalents), from joint samples of the members. */
  readonly upperNodes: number;
  /** Peak over the horizon of the sum of the members' upper bounds (what adding quantiles would claim). */
  readonly summedUpperNodes: number;
  /** Peak over the horizon of the group's median. */
  readonly predictedNodes: number;
  /** Nodes its members hold reserved after the review. */
  readonly reservedNodes: number;
}

export interface ReservationReport {
  readonly changes: readonly ReservationChange[];
  readonly accounts: readonly AccountReservationSummary[];
  readonly groups: readonly GroupForecastPoint[];
  /** The forecast interval's upper level used to raise (e.g. 0.95). */
  readonly upperLevel: number;
}

/** The predictive policy's forecast band for one workload, as it was at each decision (for charts). */
export interface ForecastBand {
  readonly timeSeconds: readonly number[];
  /** Forecast for the step, made at the latest decision before it (requests per second). */
  readonly lower: readonly number[];
  readonly median: readonly number[];
  readonly upper: readonly number[];
  readonly lowerLevel: number;
  readonly upperLevel: number;
}

export interface SimulationResult {
  readonly scenario: string;
  readonly description?: string;
  readonly stepSeconds: number;
  readonly evaluatedSteps: number;
  readonly startSeconds: number;
  /** workload -> actual demand (requests per second) over the evaluated span. */
  readonly demandRps: Readonly<Record<string, readonly number[]>>;
  readonly forecastBands: Readonly<Record<string, ForecastBand>>;
  readonly policies: readonly PolicyResult[];
  readonly notes: readonly string[];
  /** With a `maintenance:` section: the what-if windows, the migration run, placements and steps (the keys `maintenanceJson` gives). */
  readonly maintenance?: Readonly<Record<string, unknown>>;
}
