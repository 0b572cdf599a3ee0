import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.ts';
import type { Pool } from '../core/model.ts';
import { createDriver } from './factory.ts';
import { KubernetesDriver } from './kubernetes.ts';
import { SimulatorDriver } from './simulator.ts';
import { WebhookDriver } from './webhook.ts';
import { tempDir } from '../../test/helpers.ts';

const pool: Pool = {
  name: 'a',
  provider: 'p',
  zone: 'z',
  nodeType: { name: 't', capacity: { cpuMillicores: 4000, memoryMiB: 16384 } },
  costPerHour: 0.2,
  provisioningDelaySeconds: 60,
  minNodes: 1,
  maxNodes: 4,
  tags: [],
};

function kubeconfig(): string {
  const path = join(tempDir('factory'), 'config');
  writeFileSync(
    path,
    'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
  );
  return path;
}

describe('createDriver', () => {
  it('builds the simulator from the scenario', async () => {
    const d = createDriver({ name: 'simulator' }, { simulator: { pools: [pool], workloads: [], startSeconds: 100 } });
    expect(d).toBeInstanceOf(SimulatorDriver);
    expect((await d.observe()).readyNodesByPool).toEqual({ a: 1 });
  });

  it('builds the Kubernetes driver from a kubeconfig path and a workload mapping', () => {
    const d = createDriver({ name: 'kubernetes', kubernetes: { kubeconfig: kubeconfig(), workloads: [{ workload: 'web', namespace: 'shop', kind: 'Deployment', name: 'web' }] } });
    expect(d).toBeInstanceOf(KubernetesDriver);
    expect(d.name).toBe('kubernetes');
  });

  it('builds the webhook driver with its secret from the environment', () => {
    const d = createDriver({ name: 'webhook', webhook: { url: 'https://hooks.example/headroom', secretEnv: 'S' } }, { env: { S: 'a-secret-of-enough-length' } });
    expect(d).toBeInstanceOf(WebhookDriver);
  });

  it.each([
    [{ name: 'nomad' }, {}, "driver.name: Invalid discriminator value. Expected 'simulator' | 'kubernetes' | 'webhook'"],
    [{ name: 'simulator' }, {}, "driver: the simulator driver needs the scenario's pools and workloads"],
    [{ name: 'simulator', extra: 1 }, {}, "driver: Unrecognized key(s) in object: 'extra'"],
    [{ name: 'webhook' }, {}, 'driver.webhook: Required'],
    [{ name: 'webhook', webhook: { url: 'https://x.example' } }, {}, 'driver.webhook: give exactly one of "secret" or "secretEnv"'],
    [{ name: 'kubernetes', kubernetes: { workloads: [{ workload: 'w', namespace: 'n', kind: 'Job', name: 'j' }] } }, {}, "driver.kubernetes.workloads[0].kind: Invalid enum value. Expected 'Deployment' | 'StatefulSet', received 'Job'"],
  ])('rejects %j with a message naming the field', (config, context, message) => {
    let error: unknown;
    try {
      createDriver(config, context);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe(message);
  });
});
