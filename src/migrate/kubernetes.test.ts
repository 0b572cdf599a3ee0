/**
 * The same migration plan through the Kubernetes driver: the chosen plan of
 * examples/maintenance.yaml (one window) executed with `executePhases`
 * against FakeKubeApi (the local API server stand-in, see
 * src/drivers/fakeKubeApi.ts) holding the real Online Boutique Deployments,
 * one copy per zone ("<name>-a-general", "<name>-b-general"). Node actions
 * are delegated (a cluster autoscaler provisions the nodes). Every
 * Deployment ends at the plan's final counts; with a failed gate, the
 * rollback returns every replica count to the initial placement.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryActionLog } from '../core/actionLog.ts';
import type { Placement } from '../core/migration.ts';
import { executePhases } from '../drivers/executor.ts';
import { FakeKubeApi } from '../drivers/fakeKubeApi.ts';
import { KubernetesDriver, type KubernetesConfig } from '../drivers/kubernetes.ts';
import { loadScenarioFile } from '../config/load.ts';
import { whatIfInput } from './run.ts';
import { evaluateCandidate } from './whatif.ts';
import { tempDir } from '../../test/helpers.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const MANIFESTS = readFileSync(resolve(ROOT, 'data/online-boutique/kubernetes-manifests.yaml'), 'utf8');
const fixture = (name: string) => readFileSync(resolve(ROOT, `test/fixtures/kube-tls/${name}`), 'utf8');
const TOKEN = 'fake-sa-token-migrate';
const NS = 'boutique';
const POOLS = ['a-general', 'b-general'];

const scenario = loadScenarioFile(resolve(ROOT, 'examples/maintenance.yaml'));
const candidate = evaluateCandidate(whatIfInput(scenario), Date.parse('2014-04-20T05:00:00Z') / 1000);
const plan = candidate.plan;
const services = Object.keys(plan.initial);

let api: FakeKubeApi;
let kubeconfig: string;

beforeEach(async () => {
  api = new FakeKubeApi({ token: TOKEN, tls: { key: fixture('server.key'), cert: fixture('server.crt') } });
  // One Deployment per service and zone, from the real manifests, at the initial placement's replicas.
  const originals = new FakeKubeApi({ token: TOKEN, tls: { key: fixture('server.key'), cert: fixture('server.crt') } });
  originals.load(MANIFESTS, NS);
  for (const s of services) {
    for (const pool of POOLS) {
      const copy = originals.get('deployments', NS, s)!;
      const meta = copy.metadata as Record<string, unknown>;
      meta.name = `${s}-${pool}`;
      delete meta.resourceVersion;
      delete meta.uid;
      (copy.spec as Record<string, unknown>).replicas = plan.initial[s][pool] ?? 0;
      api.create(copy);
    }
  }
  const dir = tempDir('migrate-kube');
  kubeconfig = join(dir, 'config');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {server: "${await api.start()}", certificate-authority-data: "${Buffer.from(fixture('ca.crt')).toString('base64')}"}
users:
- name: headroom
  user: {token: "${TOKEN}"}
contexts:
- name: fake
  context: {cluster: fake, user: headroom}
current-context: fake
`,
  );
});
afterEach(async () => {
  await api.stop();
});

function driver(): KubernetesDriver {
  const workloads: KubernetesConfig['workloads'] = services.flatMap((s) => POOLS.map((pool) => ({ workload: s, pool, namespace: NS, kind: 'Deployment' as const, name: `${s}-${pool}` })));
  return new KubernetesDriver({ kubeconfig, context: 'fake', workloads, nodeActions: 'delegate' }, { now: () => 1_764_000_000 });
}

function replicas(): Placement {
  return Object.fromEntries(
    services.map((s) => [s, Object.fromEntries(POOLS.map((p) => [p, (api.get('deployments', NS, `${s}-${p}`)!.spec as { replicas: number }).replicas]).filter(([, n]) => (n as number) > 0))]),
  );
}

const options = { now: () => 1_764_000_000, sleep: async () => {} };

describe('a migration plan through the Kubernetes driver', () => {
  it('moves every Deployment\'s replicas to zone b, as the plan says', async () => {
    expect(replicas()).toEqual(plan.initial);
    const outcome = await executePhases(plan.phases.flatMap((p) => p.actions), driver(), new MemoryActionLog(), options);
    expect(outcome.status).toBe('completed');
    expect(replicas()).toEqual(plan.final);
    for (const s of services) expect(Object.keys(replicas()[s])).toEqual(['b-general']);
  }, 60_000);

  it('a failed gate rolls every replica count back to the initial placement', async () => {
    const outcome = await executePhases(plan.phases.flatMap((p) => p.actions), driver(), new MemoryActionLog(), {
      ...options,
      gate: async (phase) => (phase === 17 ? { ok: false, reason: 'error rate above bound' } : { ok: true }),
    });
    expect(outcome.status).toBe('rolledBack');
    expect(outcome.failedPhase).toBe(17);
    expect(outcome.rollback.length).toBe(plan.phases.slice(0, 17).reduce((a, p) => a + p.actions.length, 0));
    expect(replicas()).toEqual(plan.initial);
  }, 60_000);
});
