/** Small builders for horizon tests. */
import type { HorizonPool, HorizonWorkload } from './horizon.ts';

const GiB = 1024;

export const hpool = (name: string, cpu: number, memGiB: number, costPerHour: number, extra: Partial<HorizonPool> = {}): HorizonPool => ({
  name,
  provider: 'cloud',
  zone: 'a',
  nodeType: { name: `${cpu}x${memGiB}`, capacity: { cpuMillicores: cpu * 1000, memoryMiB: memGiB * GiB } },
  costPerHour,
  provisioningDelaySeconds: 60,
  minNodes: 0,
  maxNodes: 100,
  tags: [],
  ...extra,
});
export const hwork = (name: string, cpuMillicores: number, memoryMiB: number, instances: number[], extra: Partial<HorizonWorkload> = {}): HorizonWorkload => ({
  name,
  perInstance: { cpuMillicores, memoryMiB },
  instances,
  minInstances: 0,
  priority: 0,
  tags: [],
  ...extra,
});
