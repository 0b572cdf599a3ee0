/**
 * Seeded, realistic allocation instances for the optimize benchmark.
 *
 * Catalogue: 5 providers × 10 node types (compute 2 GiB/vCPU, general 4 GiB/vCPU,
 * memory 8 GiB/vCPU families in 2–16 vCPU sizes, as AWS c6i/m6i/r6i, GCP
 * n2-highcpu/standard/highmem, Azure F/D/E v5) = 50 node types, each offered in
 * 3 zones (150 pools). Prices per vCPU-hour follow the public on-demand list
 * prices of those families (us-east-1 / us-central1 / eastus, 2024), ±2% per
 * zone; 1-year reservations at 62% of on-demand. A fifth, own data centre is
 * cheaper per vCPU but quota-limited; its pools exist and cost a day's price to tear down.
 *
 * Workloads: CPU per instance lognormal (median 500m, σ 0.8, 100m–8 CPU),
 * memory per vCPU lognormal (median 3 GiB, σ 0.6, 0.5–16 GiB), instances
 * Pareto(α 1.3) heavy-tailed (most services a few instances, some hundreds),
 * diurnal demand over 24 hourly steps peaking in the evening; 3 priority levels,
 * guaranteed minimums and zone spread on the critical ones, pci/hipaa tags on a
 * few, maintenance windows at night, some chatty workload pairs.
 */
import { lcg } from '../src/forecast/testData.ts';
import type { HorizonInput, HorizonPool, HorizonWorkload, MaintenanceWindow, TrafficEdge } from '../src/optimize/horizon.ts';

const GiB = 1024;

interface Family {
  readonly name: string;
  readonly gibPerVcpu: number;
  readonly sizes: readonly number[];
}
const FAMILIES: readonly Family[] = [
  { name: 'compute', gibPerVcpu: 2, sizes: [2, 4, 8, 16] },
  { name: 'general', gibPerVcpu: 4, sizes: [2, 4, 8] },
  { name: 'memory', gibPerVcpu: 8, sizes: [4, 8, 16] },
];

interface ProviderSpec {
  readonly name: string;
  /** On-demand price per vCPU-hour by family. */
  readonly perVcpuHour: Readonly<Record<string, number>>;
  readonly tags: readonly string[];
  readonly reserved: boolean;
  readonly own?: boolean;
}
const PROVIDERS: readonly ProviderSpec[] = [
  // c6i.large $0.085, m6i.large $0.096, r6i.large $0.126 (2 vCPU).
  { name: 'aws', perVcpuHour: { compute: 0.0425, general: 0.048, memory: 0.063 }, tags: ['pci', 'hipaa'], reserved: true },
  // n2-highcpu-2 $0.0717, n2-standard-2 $0.0971, n2-highmem-2 $0.131.
  { name: 'gcp', perVcpuHour: { compute: 0.0358, general: 0.0486, memory: 0.0655 }, tags: [], reserved: true },
  // F2s v2 $0.0846, D2s v5 $0.096, E2s v5 $0.126.
  { name: 'azure', perVcpuHour: { compute: 0.0423, general: 0.048, memory: 0.063 }, tags: ['pci'], reserved: true },
  // OCI E4 flex-like: $0.025/OCPU(2 vCPU) + memory $0.0015/GiB: lower list prices.
  { name: 'oci', perVcpuHour: { compute: 0.0185, general: 0.0245, memory: 0.0365 }, tags: [], reserved: false },
  // Own racks, amortized hardware + power.
  { name: 'own', perVcpuHour: { compute: 0.02, general: 0.022, memory: 0.03 }, tags: ['pci', 'hipaa'], reserved: false, own: true },
];

export interface InstanceOptions {
  readonly workloads: number;
  readonly seed?: number;
  readonly steps?: number;
}

export function generateInstance(options: InstanceOptions): HorizonInput {
  const rand = lcg(options.seed ?? 42);
  const steps = options.steps ?? 24;
  const normal = () => {
    const u = Math.max(rand(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
  const lognormal = (median: number, sigma: number) => median * Math.exp(sigma * normal());
  const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
  const W = options.workloads;

  const workloads: HorizonWorkload[] = [];
  let peakVcpu = 0;
  for (let i = 0; i < W; i++) {
    const cpu = Math.round(clamp(lognormal(500, 0.8), 100, 8000) / 50) * 50;
    const gibPerVcpu = clamp(lognormal(3, 0.6), 0.5, 16);
    const memoryMiB = Math.round((cpu / 1000) * gibPerVcpu * GiB);
    const base = clamp(Math.floor(Math.pow(1 - rand(), -1 / 1.3)), 1, 300);
    const phase = rand() * 4 - 2;
    const instances = Array.from({ length: steps }, (_, t) => {
      // Evening peak (hour 19), trough before dawn.
      const diurnal = 0.6 + 0.4 * Math.cos(((t - 19 - phase) / 24) * 2 * Math.PI);
      return Math.max(1, Math.round(base * diurnal * (1 + 0.05 * normal())));
    });
    const roll = rand();
    const priority = roll < 0.2 ? 100 : roll < 0.7 ? 50 : 0;
    const lowest = Math.min(...instances);
    const tagRoll = rand();
    const tags = tagRoll < 0.02 ? ['hipaa'] : tagRoll < 0.07 ? ['pci'] : [];
    const critical = priority === 100;
    workloads.push({
      name: `w${String(i).padStart(5, '0')}`,
      perInstance: { cpuMillicores: cpu, memoryMiB },
      instances,
      minInstances: critical ? Math.max(1, Math.floor(lowest / 2)) : 0,
      priority,
      tags,
      ...(critical && lowest >= 3 ? { spread: { domain: 'zone' as const, survivingInstances: Math.ceil(lowest / 2) } } : {}),
    });
    peakVcpu += (Math.max(...instances) * cpu) / 1000;
  }

  const zones = ['a', 'b', 'c'];
  const pools: HorizonPool[] = [];
  for (const provider of PROVIDERS) {
    for (const family of FAMILIES) {
      for (const size of family.sizes) {
        zones.forEach((zone) => {
          const price = provider.perVcpuHour[family.name] * size * (1 + 0.04 * (rand() - 0.5));
          // Cloud pools: generous quotas (a quarter of peak demand each); own racks: a few per zone.
          const ownNodes = Math.max(2, Math.round((peakVcpu * 0.04) / size / zones.length));
          const cloudNodes = Math.max(10, Math.round((peakVcpu * 0.25) / size));
          pools.push({
            name: `${provider.name}-${family.name}-${size}-${zone}`,
            provider: provider.name,
            zone,
            nodeType: { name: `${family.name}-${size}`, capacity: { cpuMillicores: size * 1000, memoryMiB: size * family.gibPerVcpu * GiB } },
            costPerHour: Math.round(price * 10_000) / 10_000,
            provisioningDelaySeconds: provider.own ? 3600 : 120,
            minNodes: 0,
            maxNodes: provider.own ? ownNodes : cloudNodes,
            tags: provider.tags,
            ...(provider.reserved ? { reservedCostPerHour: Math.round(price * 0.62 * 10_000) / 10_000 } : {}),
            // Own racks exist already (one node each now); tearing a pool down costs a day of it.
            ...(provider.own ? { teardownCost: price * 24 } : {}),
          });
        });
      }
    }
  }
  const maintenance: MaintenanceWindow[] = zones.map((zone, i) => ({ name: `own-${zone}-firmware`, pool: `own-general-8-${zone}`, fromStep: 2 + 2 * i, toStep: 4 + 2 * i })).filter((m) => m.toStep <= steps);
  const traffic: TrafficEdge[] = [];
  for (let i = 0; i + 1 < W; i += 50) traffic.push({ from: workloads[i].name, to: workloads[i + 1].name, gibPerHour: Math.round(rand() * 20) });
  const ownPools = pools.filter((p) => p.provider === 'own');
  const current = { nodesByPool: Object.fromEntries(ownPools.map((p) => [p.name, 1])), instances: {}, costPerHour: ownPools.reduce((sum, p) => sum + p.costPerHour, 0), shortfall: {} };
  return {
    steps,
    current,
    stepHours: 1,
    startHourOfDay: 0,
    workloads,
    pools,
    quotas: [{ provider: 'oci', maxCpuMillicores: Math.round(peakVcpu * 0.15) * 1000 }],
    maintenance,
    traffic,
    costs: { churnPerNode: 0.01, migrationPerInstance: 0.001, crossZonePerGiB: 0.01, crossProviderPerGiB: 0.08 },
  };
}
