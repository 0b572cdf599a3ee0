import type { Agreement, BillingSettings, Health, ProviderRates } from './billing.ts';
import type { ReservationSettings } from './reservations.ts';
import type { Series } from './series.ts';
import type { KnownEvent } from './forecast.ts';
import type { MaintenanceSettings } from './migration.ts';

/** Resources of one instance or one node, in canonical units. */
export interface Resources {
  readonly cpuMillicores: number;
  readonly memoryMiB: number;
  /** Network bandwidth in megabits per second; absent means not constrained. */
  readonly networkMbps?: number;
}

/** A failure domain: the unit that fails together (a zone, or a whole provider). */
export type FailureDomain = 'zone' | 'provider';

/**
 * Spread over failure domains, as availability sizing produces it: after the
 * loss of any one `domain` (every pool in it), at least `survivingInstances`
 * instances of the workload must remain. With Z domains and N needed, no domain
 * may hold more than the total minus N (a balanced placement of ⌈N / (Z − 1)⌉ per
 * domain meets it); as a linear constraint per domain d:
 * Σ_{p ∈ d} x_p ≤ Σ_p x_p − survivingInstances.
 */
export interface SpreadRequirement {
  readonly domain: FailureDomain;
  readonly survivingInstances: number;
}

/**
 * An availability requirement on a workload, on top of its SLO sizing (N
 * instances at the sized demand). All parts are optional and combine:
 * - `spareInstances` k: N + k instances, so any k instances may fail (N+k);
 * - `survive`: after the loss of any one zone or provider, N + k instances remain;
 * - `target` (0..1): the probability that at least N instances are up, under
 *   independent failures with `instanceFailureProbability` per instance and
 *   `domainFailureProbability` per domain of kind `survive`.
 */
export interface AvailabilityRequirement {
  readonly target?: number;
  readonly survive?: FailureDomain;
  readonly spareInstances?: number;
  /** Share of time one instance is down (0..1), independent of the others. */
  readonly instanceFailureProbability?: number;
  /** Share of time one failure domain (zone or provider, as `survive`) is down (0..1). */
  readonly domainFailureProbability?: number;
}

/** Where a workload's risk level (sizing quantile) came from. */
export type SizingQuantileSource = 'workload' | 'priority' | 'default';

/**
 * A service level objective for one workload.
 * - `latency`: the `percentile` (e.g. 0.99) of request response time must be at most `targetSeconds`.
 * - `utilization`: the busy share of each instance must stay at most `maxUtilization` (0..1).
 */
export type Slo =
  | { readonly kind: 'latency'; readonly targetSeconds: number; readonly percentile: number }
  | { readonly kind: 'utilization'; readonly maxUtilization: number };

/** How one instance serves requests: an M/M/c station with `concurrency` parallel servers per instance. */
export interface ServiceModel {
  /** Mean time one server spends on one request, in seconds. */
  readonly serviceTimeSeconds: number;
  /** Requests one instance serves in parallel (worker threads, cores). */
  readonly concurrency: number;
}

/** Requests per second one instance can serve at 100% utilization. */
export function instanceCapacityRps(service: ServiceModel): number {
  return service.concurrency / service.serviceTimeSeconds;
}

/** A unit of demand that gets capacity: a service, a customer channel, an account, a tenant. */
export interface Workload {
  readonly name: string;
  /** Demand in requests per second on the scenario's step grid. */
  readonly demand: Series;
  readonly service: ServiceModel;
  readonly perInstance: Resources;
  readonly slo: Slo;
  readonly minInstances: number;
  readonly maxInstances: number;
  /** Higher is more important (as Kubernetes PriorityClass values). */
  readonly priority: number;
  /** Forecast quantile the predictive policy sizes for (its risk level), e.g. 0.95. */
  readonly sizingQuantile: number;
  /** Whether `sizingQuantile` was set on the workload, taken from the scenario's `riskQuantiles` by priority, or the default. */
  readonly sizingQuantileSource?: SizingQuantileSource;
  /** Redundancy and spread over failure domains beyond the SLO's instance count. */
  readonly availability?: AvailabilityRequirement;
  /** Compliance tags; instances run only in pools offering all of them. */
  readonly tags: readonly string[];
  readonly account?: string;
}

export type ProviderKind = 'own' | 'partner' | 'cloud';

export interface Provider {
  readonly name: string;
  readonly kind: ProviderKind;
  /** Absent means healthy. */
  readonly health?: Health;
  /** List prices per resource-hour, on demand and committed; pools without a costPerHour derive theirs from these. */
  readonly rates?: ProviderRates;
}

/** A node type as offered in one pool. */
export interface NodeType {
  readonly name: string;
  readonly capacity: Resources;
}

/** A group of identical nodes in one provider and zone. */
export interface Pool {
  readonly name: string;
  readonly provider: string;
  readonly zone: string;
  readonly nodeType: NodeType;
  /** Price of one node for one hour, in the scenario's currency. */
  readonly costPerHour: number;
  /** Seconds from requesting a node until it can run instances. */
  readonly provisioningDelaySeconds: number;
  readonly minNodes: number;
  /** Quota: the most nodes this pool may have. */
  readonly maxNodes: number;
  /** Compliance tags this pool offers (e.g. `pci`, `hipaa`). */
  readonly tags: readonly string[];
  /** Price of one node for one hour when committed ahead (reserved), if offered. */
  readonly committedCostPerHour?: number;
  /** Absent means healthy. */
  readonly health?: Health;
  /**
   * A template: the pool does not exist when the replay starts and may be
   * created (createPool) when the allocator needs it and its `creationCost`
   * is within the scenario's `poolLifecycle.maxCreationCost`.
   */
  readonly candidate?: boolean;
  /** One-off price of creating the pool (network, control plane, contracts), in the scenario's currency. */
  readonly creationCost?: number;
  /** Network configuration as declared (segment, address range); ranges of candidates are assigned when created. */
  readonly network?: PoolNetworkSpec;
}

/** A pool's network as declared: missing parts are filled in when the pool is created (see plan/network.ts). */
export interface PoolNetworkSpec {
  readonly segment?: string;
  /** IPv4 range of the pool's pods, as CIDR ("10.1.0.0/20"). */
  readonly cidr?: string;
  /** Most pods one node runs (each node gets an aligned block of the next power of two addresses). */
  readonly podsPerNode?: number;
}

/** Address plan of the scenario: every pool's range lies in `parentCidr` and no two overlap. */
export interface NetworkSettings {
  readonly parentCidr: string;
  /** Default pods per node of pools that don't state it. */
  readonly podsPerNode: number;
}

/** A failure of a provider or of one pool over a span of the replay (`incidents:`). */
export interface Incident {
  readonly provider?: string;
  readonly pool?: string;
  /** Epoch seconds; the end is exclusive. */
  readonly startSeconds: number;
  readonly endSeconds: number;
  readonly description?: string;
}

/** When pools are created and given back. */
export interface PoolLifecycleSettings {
  /** Candidate pools whose `creationCost` is above this are never created (demand beyond the rest is throttled by priority). */
  readonly maxCreationCost: number;
  /** A created candidate pool with no nodes and no instances for this long is dismantled. */
  readonly dismantleAfterSeconds: number;
  /** Nodes idle (nothing runs on them) for longer than this are reported as reclaimable. */
  readonly idleReclaimSeconds: number;
}

/** Calls of `to` made per request of `from` (a dependency graph edge). */
export interface DependencyEdge {
  readonly from: string;
  readonly to: string;
  readonly callsPerRequest: number;
  readonly bytesPerCall?: number;
}

export interface Account {
  readonly name: string;
  readonly group?: string;
  readonly priority: number;
  /** Instances (across its workloads) that survive any contention. */
  readonly guaranteedInstances: number;
}

/** Replay settings. */
export interface SimulationSettings {
  readonly stepSeconds: number;
  /** History available before the first evaluated step. */
  readonly warmupSeconds: number;
  /** Evaluated span after warm-up (defaults to the rest of the traces). */
  readonly durationSeconds: number;
  readonly horizonSeconds: number;
  readonly decisionIntervalSeconds: number;
  /** Control-loop period inside a step (the HPA's sync period, 15 s by default). */
  readonly tickSeconds: number;
}

/** Settings of the predictive policy (forecaster and how often it refits). */
export interface PredictiveSettings {
  readonly model: string;
  readonly refitIntervalSeconds: number;
}

/** Why a service holds state: moving it needs a copy and a cutover, not start-then-stop. */
export interface StatefulInfo {
  /** `database`, `cache` or `queue` for a known data store image; `storage` for claimed volumes or a StatefulSet. */
  readonly kind: 'database' | 'cache' | 'queue' | 'storage';
  readonly reason: string;
}

/** A service of the dependency graph, with what planning needs beyond its workload. */
export interface GraphServiceInfo {
  readonly name: string;
  /** Has a workload in `Scenario.workloads` (clients and excluded services have none). */
  readonly sized: boolean;
  readonly stateful?: StatefulInfo;
  /** Takes traffic from outside the cluster (a LoadBalancer or NodePort Service selects it). */
  readonly exposed?: boolean;
  /** Only calls others (no Service selects it), like a load generator. */
  readonly client?: boolean;
  /** Pod requests from the manifests, when imported. */
  readonly podRequests?: Resources;
}

/** The dependency graph a scenario declares (`graph:`); its edges are `Scenario.dependencies`. */
export interface ScenarioGraph {
  /** Services whose workloads carry external demand (their traces). */
  readonly entry: readonly string[];
  /** Every service of the graph, callers before callees. */
  readonly services: readonly GraphServiceInfo[];
  /** Where the graph came from: the manifests file, or "dependencies". */
  readonly source: string;
  /** How the ratios of imported edges were set (absent without manifests). */
  readonly ratios?: 'online-boutique' | 'unit';
}

export interface Scenario {
  readonly name: string;
  readonly description?: string;
  /** Directory that relative paths in the scenario resolve against. */
  readonly baseDir: string;
  readonly workloads: readonly Workload[];
  readonly pools: readonly Pool[];
  readonly providers: readonly Provider[];
  readonly accounts: readonly Account[];
  readonly dependencies: readonly DependencyEdge[];
  readonly simulation: SimulationSettings;
  readonly predictive: PredictiveSettings;
  /** Timestamp (epoch seconds) of the first step on the common grid. */
  readonly startSeconds: number;
  /** Known events (holidays, campaigns) on the grid's clock, yearly ones expanded; absent when none. */
  readonly events?: readonly ScenarioEvent[];
  /** The dependency graph, when the scenario declares one (`graph:`): every service's demand is propagated from the entry workloads. */
  readonly graph?: ScenarioGraph;
  /** Partner agreements that price some pools' usage (absent: every pool at its costPerHour). */
  readonly agreements?: readonly Agreement[];
  readonly billing?: BillingSettings;
  /** Reservations adjusted from forecasts (absent: nothing is reserved; every node is on demand or under its agreement). */
  readonly reservations?: ReservationSettings;
  /** A planned change (maintenance, outage, decommission, price change) to find a window for and move workloads around (`maintenance:`). */
  readonly maintenance?: MaintenanceSettings;
  /** Failures of providers or pools during the replay (absent: none besides static `health: failing`). */
  readonly incidents?: readonly Incident[];
  /** Pool life cycle settings (absent: candidate pools may always be created, dismantled after an hour unused). */
  readonly poolLifecycle?: PoolLifecycleSettings;
  /** Address plan the pools' ranges are checked against and new pools' ranges are taken from. */
  readonly network?: NetworkSettings;
}

/** A known event of a scenario: the forecasting event, limited to some workloads when `workloads` is set. */
export interface ScenarioEvent extends KnownEvent {
  readonly workloads?: readonly string[];
}
