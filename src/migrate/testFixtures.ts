/** Small hand-made scenarios for the migration tests. */
import type { BudgetAmount, MaintenanceSettings, MigrationServiceSettings } from '../core/migration.ts';
import type { Pool, Workload } from '../core/model.ts';

export function pool(name: string, zone: string, options: Partial<Pool> & { cpu?: number; mem?: number } = {}): Pool {
  return {
    name,
    provider: options.provider ?? 'p1',
    zone,
    nodeType: { name: 'n', capacity: { cpuMillicores: options.cpu ?? 4000, memoryMiB: options.mem ?? 16384 } },
    costPerHour: options.costPerHour ?? 1,
    provisioningDelaySeconds: options.provisioningDelaySeconds ?? 120,
    minNodes: 0,
    maxNodes: options.maxNodes ?? 100,
    tags: [],
  };
}

/** A workload serving 100 req/s per instance (10 ms, concurrency 1) under a 70% utilization SLO. */
export function workload(name: string, options: Partial<Workload> & { cpu?: number; mem?: number } = {}): Workload {
  return {
    name,
    demand: { startSeconds: 0, stepSeconds: 300, values: [0, 0] },
    service: options.service ?? { serviceTimeSeconds: 0.01, concurrency: 1 },
    perInstance: { cpuMillicores: options.cpu ?? 500, memoryMiB: options.mem ?? 512 },
    slo: options.slo ?? { kind: 'utilization', maxUtilization: 0.7 },
    minInstances: options.minInstances ?? 1,
    maxInstances: options.maxInstances ?? 100,
    priority: options.priority ?? 0,
    sizingQuantile: 0.9,
    tags: [],
  };
}

export function settings(
  services: readonly string[],
  options: {
    pools?: string[];
    targets?: string[];
    budget?: { maxUnavailable: BudgetAmount; maxSurge: BudgetAmount };
    perService?: Record<string, Partial<MigrationServiceSettings>>;
    soakSeconds?: number;
    durationSeconds?: number;
  } = {},
): MaintenanceSettings {
  const budget = options.budget ?? { maxUnavailable: { percent: 25 }, maxSurge: { percent: 25 } };
  return {
    change: { kind: 'maintenance', scope: 'pool', name: (options.pools ?? ['a'])[0], pools: options.pools ?? ['a'], durationSeconds: options.durationSeconds ?? 4 * 3600 },
    fromSeconds: 0,
    everySeconds: 3600,
    withinSeconds: 86400,
    initialPool: (options.pools ?? ['a'])[0],
    initialPools: {},
    targetPools: options.targets ?? ['b'],
    gate: { minSloAttainment: 0.99, soakSeconds: options.soakSeconds ?? 300 },
    services: Object.fromEntries(services.map((s) => [s, { budget, stateful: false, dataMiB: 1024, ...(options.perService?.[s] ?? {}) }])),
    returnAfter: false,
    copyBandwidthMbps: 800,
    cutoverPauseSeconds: 30,
    network: { crossZoneLatencySeconds: 0.001, crossProviderLatencySeconds: 0.02, crossZoneCostPerGiB: 0.01, crossProviderCostPerGiB: 0.08, defaultBytesPerCall: 1024 },
  };
}
