import type { Scenario, Workload } from '../../core/model.ts';
import type { Allocation } from '../../core/plan.ts';
import type { SimulatorDriver } from '../../drivers/simulator.ts';
import type { QuantileForecast } from '../../core/forecast.ts';
import type { ForecastBand, PolicyName, ReservationReport } from '../types.ts';

/** Instances per workload that a policy wants (before placement onto pools). */
export type InstanceTargets = Readonly<Record<string, number>>;

/** workload -> pool -> instances, as placed now. */
export type Placement = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** Turns instance targets into a least-cost allocation (memoized MIP). */
export interface Allocator {
  /** With `current`, moving an instance away from where it is carries a cost, so placements stay put unless moving saves money. */
  allocate(targets: InstanceTargets, current?: Placement, currentNodes?: Readonly<Record<string, number>>): Promise<Allocation>;
  /**
   * Least-cost plan over a window of steps (targets per step, step 0 = now),
   * change priced against `current` (and `currentNodes` when given); returns
   * step 0's allocation, the one to enact (receding horizon).
   */
  allocateWindow?(window: readonly InstanceTargets[], current?: Placement, currentNodes?: Readonly<Record<string, number>>): Promise<Allocation>;
}

/** An allocator that plans over windows of steps. */
export interface WindowAllocator extends Allocator {
  allocateWindow(window: readonly InstanceTargets[], current?: Placement, currentNodes?: Readonly<Record<string, number>>): Promise<Allocation>;
}

/** Sizing, shared by every policy so all are judged by the same queueing model. */
export interface Sizer {
  /** Fewest instances that hold the workload's SLO at `demandRps` (clamped to min/max), raised for its availability requirement when it declares one. */
  instancesFor(workload: Workload, demandRps: number): number;
}

export interface PolicyContext {
  readonly scenario: Scenario;
  readonly allocator: Allocator;
  readonly sizer: Sizer;
  /** Index of the first evaluated step (the end of warm-up). */
  readonly evalStartIndex: number;
  readonly evalSteps: number;
}

/** Where the current tick is: time and the step it falls in. */
export interface Tick {
  readonly timeSeconds: number;
  readonly stepIndex: number;
  /** Tick number within the step (0 at the step's start). */
  readonly tickInStep: number;
}

/**
 * A capacity policy in the replay. It may look at demand only up to what it
 * would know at the tick (the engine passes the driver; policies read demand
 * from the scenario themselves and each documents what it sees).
 */
export interface ReplayPolicy {
  readonly name: PolicyName;
  /** Allocation in place (ready) when the evaluated span starts. */
  initialAllocation(): Promise<Allocation>;
  onTick(tick: Tick, driver: SimulatorDriver): Promise<void>;
  /** Forecast bands for charts (predictive only). */
  forecastBands?(): Record<string, ForecastBand>;
  notes?(): string[];
  /** The forecasts of the latest decision, per workload (predictive only; for reservations). */
  latestForecasts?(): LatestForecasts | undefined;
  /** Reservation changes and groups' forecasts (policies wrapped by `withReservations`). */
  reservations?(): ReservationReport;
}

/** The forecasts a decision was made on: made at `stepIndex`, one per workload, starting at that step. */
export interface LatestForecasts {
  readonly stepIndex: number;
  readonly byWorkload: ReadonlyMap<string, QuantileForecast>;
}
