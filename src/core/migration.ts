/**
 * Maintenance and migration as data: where services run (placement), the
 * change a scenario plans for (a pool, zone or provider down, a decommission,
 * a price change) and the limits a phased move must honour.
 */

/** Where each service's instances run: service -> pool -> instances (pools name their zone and provider). */
export type Placement = Readonly<Record<string, Readonly<Record<string, number>>>>;

/**
 * What happens to the affected pools:
 * - `maintenance` / `outage`: down for `durationSeconds`, then back;
 * - `decommission`: down from the start onwards (the window runs to the horizon's end);
 * - `priceChange`: stays up, priced × `priceFactor` for `durationSeconds` (nothing has to move).
 */
export type ChangeKind = 'maintenance' | 'outage' | 'decommission' | 'priceChange';

export interface MaintenanceChange {
  readonly kind: ChangeKind;
  /** What the change names: one pool, every pool of a zone, or every pool of a provider. */
  readonly scope: 'pool' | 'zone' | 'provider';
  readonly name: string;
  /** Pools the change affects (resolved from scope and name), in scenario order. */
  readonly pools: readonly string[];
  /** Length of the window; absent for a decommission (it lasts to the end of the horizon). */
  readonly durationSeconds?: number;
  /** Price multiplier of a price change. */
  readonly priceFactor?: number;
}

/** A Kubernetes-style amount: whole instances, or a share of the service's instances (rounded as Kubernetes does). */
export type BudgetAmount = { readonly instances: number } | { readonly percent: number };

/** Per-service disruption budget (as a PodDisruptionBudget's maxUnavailable) and surge limit (a rolling update's maxSurge). */
export interface DisruptionBudget {
  readonly maxUnavailable: BudgetAmount;
  readonly maxSurge: BudgetAmount;
}

/** Settings of one service for a move. */
export interface MigrationServiceSettings {
  readonly budget: DisruptionBudget;
  /** Moves by copy then cutover (a database or cache), not start-then-stop. */
  readonly stateful: boolean;
  /** Data to copy before a stateful service's cutover, in MiB. */
  readonly dataMiB: number;
}

/** Cross-zone and cross-provider traffic: what an edge split by a move costs in latency and money. */
export interface NetworkCosts {
  readonly crossZoneLatencySeconds: number;
  readonly crossProviderLatencySeconds: number;
  readonly crossZoneCostPerGiB: number;
  readonly crossProviderCostPerGiB: number;
  /** Bytes per call for edges that do not declare `bytesPerCall`. */
  readonly defaultBytesPerCall: number;
}

/** A health gate after each phase: every service's SLO attainment at or above the bound over the soak time (an analysis run). */
export interface HealthGate {
  /** Share of each service's requests served within its SLO (0..1) over the soak. */
  readonly minSloAttainment: number;
  readonly soakSeconds: number;
}

/** The scenario's `maintenance:` section in domain form. */
export interface MaintenanceSettings {
  readonly change: MaintenanceChange;
  /** When the forecast is made and the candidate starts begin (epoch seconds). */
  readonly fromSeconds: number;
  /** Candidate starts every this many seconds… */
  readonly everySeconds: number;
  /** …over this span from `fromSeconds`. */
  readonly withinSeconds: number;
  /** Pool every service runs in before the change (unless `initialPools` says otherwise). */
  readonly initialPool: string;
  /** Per-service initial pool overrides. */
  readonly initialPools: Readonly<Record<string, string>>;
  /** Pools a move may use, in order of preference. */
  readonly targetPools: readonly string[];
  readonly gate: HealthGate;
  /** Settings by service (every workload of the scenario has one). */
  readonly services: Readonly<Record<string, MigrationServiceSettings>>;
  /** Move the services back to their initial pools once the window is over. */
  readonly returnAfter: boolean;
  readonly copyBandwidthMbps: number;
  /** Time a stateful service is unavailable while clients switch to the copy. */
  readonly cutoverPauseSeconds: number;
  readonly network: NetworkCosts;
}
