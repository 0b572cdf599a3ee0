/** Results of replaying one scenario under several policies. */
import type { PoolReport } from './pools.ts';
import type { Alert, Invoice } from '../billing/invoice.ts';
import type { UsageRecord } from '../billing/meter.ts';

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
  /** Pool changes (life cycle, health), fragmentation, idle capacity and throttling of the run. */
  readonly pools?: PoolReport;
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
}
