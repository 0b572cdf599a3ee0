/**
 * Kubernetes driver tests. No Kubernetes API server can run in this
 * environment (no kind, k3s, envtest or container runtime), so these tests
 * run against FakeKubeApi (src/drivers/fakeKubeApi.ts): a local node:http
 * server that answers like the API server for apps/v1 Deployments and
 * StatefulSets and their scale subresource (see its header for where it is
 * faithful and where not). The driver under test uses the real client,
 * @kubernetes/client-node's KubeConfig and AppsV1Api, over HTTPS on loopback,
 * with a kubeconfig file naming the cluster's CA (a test fixture) and a bearer
 * token, as a real cluster needs. The objects are the real Online Boutique
 * manifests (data/online-boutique).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryActionLog } from '../core/actionLog.ts';
import { InvalidInputError } from '../core/errors.ts';
import { inverse, type Action } from '../core/plan.ts';
import { describeDriverContract } from '../../test/driverContract.ts';
import { executePhases } from './executor.ts';
import { FakeKubeApi } from './fakeKubeApi.ts';
import { APPLIED_ANNOTATION, INTENT_ANNOTATION, KubernetesDriver, type KubernetesConfig } from './kubernetes.ts';
import { tempDir } from '../../test/helpers.ts';

const MANIFESTS = readFileSync(new URL('../../data/online-boutique/kubernetes-manifests.yaml', import.meta.url), 'utf8');
const TOKEN = 'fake-sa-token-7f3a';
const fixture = (name: string) => readFileSync(new URL(`../../test/fixtures/kube-tls/${name}`, import.meta.url), 'utf8');
const TLS = { key: fixture('server.key'), cert: fixture('server.crt') };
const CA_DATA = Buffer.from(fixture('ca.crt')).toString('base64');
const NS = 'boutique';
const BOUTIQUE = [
  'adservice',
  'cartservice',
  'checkoutservice',
  'currencyservice',
  'emailservice',
  'frontend',
  'loadgenerator',
  'paymentservice',
  'productcatalogservice',
  'recommendationservice',
  'redis-cart',
  'shippingservice',
];

let api: FakeKubeApi;
let kubeconfigPath: string;

function writeKubeconfig(server: string, token: string, caData: string | undefined = CA_DATA): string {
  const dir = tempDir('kube');
  const path = join(dir, 'config');
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {server: "${server}"${caData ? `, certificate-authority-data: "${caData}"` : ''}}
- name: elsewhere
  cluster: {server: "https://10.0.0.1:6443"}
users:
- name: headroom
  user: {token: "${token}"}
contexts:
- name: fake
  context: {cluster: fake, user: headroom}
- name: prod
  context: {cluster: elsewhere, user: headroom}
current-context: prod
`,
  );
  return path;
}

beforeEach(async () => {
  api = new FakeKubeApi({ token: TOKEN, tls: TLS });
  api.load(MANIFESTS, NS);
  kubeconfigPath = writeKubeconfig(await api.start(), TOKEN);
});

afterEach(async () => {
  await api.stop();
});

const everyWorkload = (): KubernetesConfig['workloads'] => BOUTIQUE.map((name) => ({ workload: name, namespace: NS, kind: 'Deployment' as const, name }));

function driver(over: Partial<KubernetesConfig> = {}): KubernetesDriver {
  return new KubernetesDriver({ kubeconfig: kubeconfigPath, context: 'fake', workloads: everyWorkload(), ...over }, { now: () => 1_764_000_000 });
}

let seq = 0;
const base = (phase = 0) => ({ id: `k${++seq}`, decidedAtSeconds: 0, phase, reason: 'test' });
const scale = (workload: string, pool: string, fromInstances: number, toInstances: number, phase = 0): Action => ({ ...base(phase), kind: 'scaleWorkload', workload, pool, fromInstances, toInstances });
const deployment = (name: string) => api.get('deployments', NS, name)!;
const replicasOf = (name: string) => (deployment(name).spec as { replicas: number }).replicas;
const container = (name: string, c = 'server') =>
  ((deployment(name).spec as any).template.spec.containers as { name: string; resources: unknown; [k: string]: unknown }[]).find((x) => x.name === c)!;
const writes = () => api.requests.filter((r) => r.method !== 'GET');

describe('KubernetesDriver on the Online Boutique manifests', () => {
  it('observes the 12 real Deployments: replicas, ready replicas and the containers’ requests and limits', async () => {
    api.setReadyReplicas('deployments', NS, 'cartservice', 0);
    const state = await driver().observe();
    expect(Object.keys(state.desiredInstances).sort()).toEqual(BOUTIQUE);
    for (const name of BOUTIQUE) expect(state.desiredInstances[name]).toEqual({ '*': 1 });
    expect(state.runningInstances.cartservice).toEqual({ '*': 0 });
    expect(state.runningInstances.frontend).toEqual({ '*': 1 });
    // As in the manifests: frontend 100m/64Mi requests, 200m/128Mi limits; redis-cart 70m/200Mi, 125m/256Mi; loadgenerator's "main" 300m/256Mi, 500m/512Mi.
    expect(state.instanceResources!.frontend['*']).toEqual({ requests: { cpuMillicores: 100, memoryMiB: 64 }, limits: { cpuMillicores: 200, memoryMiB: 128 } });
    expect(state.instanceResources!['redis-cart']['*']).toEqual({ requests: { cpuMillicores: 70, memoryMiB: 200 }, limits: { cpuMillicores: 125, memoryMiB: 256 } });
    expect(state.instanceResources!.loadgenerator['*']).toEqual({ requests: { cpuMillicores: 300, memoryMiB: 256 }, limits: { cpuMillicores: 500, memoryMiB: 512 } });
    expect(state.readyNodesByPool).toEqual({});
  });

  it('scales through the scale subresource with the object’s resourceVersion, then records the action id on the object', async () => {
    const before = deployment('frontend');
    const a = { ...scale('frontend', 'a', 1, 3), id: 'scale-frontend-1' };
    expect(await driver({ workloads: [{ workload: 'frontend', pool: 'a', namespace: NS, kind: 'Deployment', name: 'frontend' }] }).apply(a)).toEqual({ ok: true });
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /apis/apps/v1/namespaces/${NS}/deployments/frontend`,
      `PUT /apis/apps/v1/namespaces/${NS}/deployments/frontend/scale`,
      `PATCH /apis/apps/v1/namespaces/${NS}/deployments/frontend`,
    ]);
    expect(api.requests[1].body).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { resourceVersion: (before.metadata as any).resourceVersion }, spec: { replicas: 3 } });
    expect(api.requests[1].query).toEqual({ fieldManager: 'headroom' });
    expect(api.requests[2].contentType).toBe('application/merge-patch+json');
    const after = deployment('frontend');
    expect(replicasOf('frontend')).toBe(3);
    expect(JSON.parse((after.metadata as any).annotations[APPLIED_ANNOTATION])).toEqual(['scale-frontend-1']);
    expect((after.spec as any).template).toEqual((before.spec as any).template);
    expect((after.metadata as any).generation).toBe(2);
  });

  it('never applies an id twice: not from memory, not after a restart, not after someone else changed the object', async () => {
    const a = scale('cartservice', 'x', 1, 4);
    const d = driver();
    expect(await d.apply(a)).toEqual({ ok: true });
    const sent = api.requests.length;
    expect(await d.apply(a)).toEqual({ ok: true });
    expect(api.requests.length).toBe(sent);
    // Someone scales to 2 by hand; a restarted headroom resends the old id: it reads the annotation and leaves 2 alone.
    api.touch('deployments', NS, 'cartservice', (o) => ((o.spec as any).replicas = 2));
    expect(await driver().apply(a)).toEqual({ ok: true });
    expect(api.requests.slice(sent).map((r) => r.method)).toEqual(['GET']);
    expect(replicasOf('cartservice')).toBe(2);
  });

  it('sets a shared object (no pool in the mapping) to the sum over pools, surviving a crash between the intent and the scale', async () => {
    const d = driver();
    // Pool a: 1 → 3 (the object had 1): replicas 3. Then pool b: 0 → 2: replicas 5.
    expect(await d.apply(scale('checkoutservice', 'a', 1, 3))).toEqual({ ok: true });
    expect(replicasOf('checkoutservice')).toBe(3);
    api.inject({ method: 'PUT', pathIncludes: '/checkoutservice/scale', code: 503 });
    const b = scale('checkoutservice', 'b', 0, 2);
    const first = await d.apply(b);
    expect(first).toMatchObject({ ok: false, retryable: true });
    expect(first.error).toContain('API server answered 503');
    // The absolute target was recorded before the scale failed.
    expect(JSON.parse((deployment('checkoutservice').metadata as any).annotations[INTENT_ANNOTATION])).toEqual({ id: b.id, replicas: 5 });
    expect(await driver().apply(b)).toEqual({ ok: true });
    expect(replicasOf('checkoutservice')).toBe(5);
    const annotations = (deployment('checkoutservice').metadata as any).annotations;
    expect(annotations[INTENT_ANNOTATION]).toBeUndefined();
    expect(JSON.parse(annotations[APPLIED_ANNOTATION])).toHaveLength(2);
  });

  it('answers a concurrent change with a retryable 409 (real resourceVersion precondition), and the executor retries', async () => {
    let raced = false;
    api.onRequest = (r) => {
      if (!raced && r.method === 'PUT' && r.path.endsWith('/frontend/scale')) {
        raced = true;
        api.touch('deployments', NS, 'frontend', (o) => (((o.metadata as any).labels ??= {}).touched = 'yes'));
      }
    };
    const a = scale('frontend', 'a', 1, 2);
    const direct = await driver().apply(a);
    expect(direct.ok).toBe(false);
    expect(direct.retryable).toBe(true);
    expect(direct.error).toBe(
      `scaleWorkload ${a.id}: scale of Deployment ${NS}/frontend changed while headroom was writing it (409 Conflict): Operation cannot be fulfilled on deployments.apps "frontend": the object has been modified; please apply your changes to the latest version and try again`,
    );
    expect(replicasOf('frontend')).toBe(1);
    const log = new MemoryActionLog();
    const out = await executePhases([a], driver(), log, { now: () => 0, sleep: async () => {} });
    expect(out.status).toBe('completed');
    expect(replicasOf('frontend')).toBe(2);
  });

  it('resizes a container with a strategic merge patch that leaves the rest of the pod template as it was', async () => {
    const before = container('frontend');
    const grow: Action = { ...base(), kind: 'resizeWorkload', workload: 'frontend', from: { requests: { cpuMillicores: 100, memoryMiB: 64 }, limits: { cpuMillicores: 200, memoryMiB: 128 } }, to: { requests: { cpuMillicores: 150, memoryMiB: 96 }, limits: { cpuMillicores: 1000, memoryMiB: 2048 } } };
    expect(await driver().apply(grow)).toEqual({ ok: true });
    const patch = writes()[0];
    expect(patch.contentType).toBe('application/strategic-merge-patch+json');
    expect((patch.body as any).spec.template.spec.containers).toEqual([{ name: 'server', resources: { requests: { cpu: '150m', memory: '96Mi' }, limits: { cpu: '1', memory: '2Gi' } } }]);
    const after = container('frontend');
    expect(after.resources).toEqual({ requests: { cpu: '150m', memory: '96Mi' }, limits: { cpu: '1', memory: '2Gi' } });
    expect({ ...after, resources: undefined }).toEqual({ ...before, resources: undefined });
    // The inverse restores the manifest's values exactly.
    expect(await driver().apply(inverse(grow, `${grow.id}/rollback`))).toEqual({ ok: true });
    expect(container('frontend')).toEqual(before);
  });

  it('resizes the only container of the load generator, leaving its init container alone', async () => {
    const init = (deployment('loadgenerator').spec as any).template.spec.initContainers;
    const r = await driver().apply({ ...base(), kind: 'resizeWorkload', workload: 'loadgenerator', from: {}, to: { requests: { cpuMillicores: 400 } } });
    expect(r).toEqual({ ok: true });
    expect(container('loadgenerator', 'main').resources).toEqual({ requests: { cpu: '400m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } });
    expect((deployment('loadgenerator').spec as any).template.spec.initContainers).toEqual(init);
  });

  it('reports the API server’s 422 when requests would exceed limits (permanent), and writes nothing', async () => {
    const before = deployment('paymentservice');
    const r = await driver().apply({ ...base(), kind: 'resizeWorkload', workload: 'paymentservice', from: {}, to: { requests: { cpuMillicores: 500 } } });
    expect(r.ok).toBe(false);
    expect(r.retryable).toBe(false);
    expect(r.error).toContain(
      'rejected as invalid (422): Deployment.apps "paymentservice" is invalid: spec.template.spec.containers[0].resources.requests: Invalid value: "500m": must be less than or equal to cpu limit of 200m',
    );
    expect(deployment('paymentservice')).toEqual(before);
  });

  it('asks for a container name when an object has several and none is named like it', async () => {
    const two = structuredClone(deployment('emailservice'));
    (two.metadata as any).name = 'mail-pair';
    delete (two.metadata as any).resourceVersion;
    const cs = (two.spec as any).template.spec.containers;
    cs.push({ ...cs[0], name: 'sidecar' });
    api.create(two);
    const mapping = (container?: string) => ({ workloads: [{ workload: 'mail', namespace: NS, kind: 'Deployment' as const, name: 'mail-pair', ...(container ? { container } : {}) }] });
    const resize: Action = { ...base(), kind: 'resizeWorkload', workload: 'mail', from: {}, to: { limits: { memoryMiB: 512 } } };
    expect((await driver(mapping()).apply(resize)).error).toContain(`Deployment ${NS}/mail-pair has 2 containers (server, sidecar): name one with "container" in the workload mapping`);
    expect(await driver(mapping('sidecar')).apply({ ...resize, id: 'other' })).toEqual({ ok: true });
    const containers = (api.get('deployments', NS, 'mail-pair')!.spec as any).template.spec.containers;
    expect(containers.map((c: any) => c.resources.limits.memory)).toEqual(['128Mi', '512Mi']);
  });

  it('in dry-run mode sends every write with dryRun=All and changes nothing', async () => {
    const before = deployment('currencyservice');
    const d = driver({ dryRun: true });
    expect(await d.apply(scale('currencyservice', 'a', 1, 6))).toEqual({ ok: true });
    expect(await d.apply({ ...base(), kind: 'resizeWorkload', workload: 'currencyservice', from: {}, to: { requests: { memoryMiB: 100 } } })).toEqual({ ok: true });
    expect(writes().length).toBeGreaterThanOrEqual(3);
    for (const w of writes()) expect(w.query.dryRun).toBe('All');
    expect(deployment('currencyservice')).toEqual(before);
    // The server still validates in dry run: an invalid resize fails.
    const bad = await d.apply({ ...base(), kind: 'resizeWorkload', workload: 'currencyservice', from: {}, to: { requests: { cpuMillicores: 5000 } } });
    expect(bad).toMatchObject({ ok: false, retryable: false });
  });

  it('migrates between per-pool objects make-before-break: the target grows before the source shrinks', async () => {
    const copy = structuredClone(deployment('frontend'));
    (copy.metadata as any).name = 'frontend-zone-b';
    delete (copy.metadata as any).resourceVersion;
    api.create(copy);
    const workloads = [
      { workload: 'frontend', pool: 'zone-a', namespace: NS, kind: 'Deployment' as const, name: 'frontend' },
      { workload: 'frontend', pool: 'zone-b', namespace: NS, kind: 'Deployment' as const, name: 'frontend-zone-b' },
    ];
    const d = driver({ workloads });
    expect(await d.apply(scale('frontend', 'zone-a', 1, 4))).toEqual({ ok: true });
    api.requests.length = 0;
    const move: Action = { ...base(), kind: 'migrate', workload: 'frontend', fromPool: 'zone-a', toPool: 'zone-b', instances: 3 };
    expect(await d.apply(move)).toEqual({ ok: true });
    const scales = api.requests.filter((r) => r.path.endsWith('/scale')).map((r) => `${r.path.split('/')[7]}=${(r.body as any).spec.replicas}`);
    expect(scales).toEqual(['frontend-zone-b=4', 'frontend=1']);
    expect((await d.observe()).desiredInstances.frontend).toEqual({ 'zone-a': 1, 'zone-b': 4 });
    const tooMany = await driver({ workloads }).apply({ ...move, id: 'too-many' });
    expect(tooMany).toEqual({ ok: false, error: `migrate too-many: Deployment ${NS}/frontend has 1 replicas, cannot move 3`, retryable: false });
  });

  it('scales a StatefulSet through its own scale subresource', async () => {
    const sts = structuredClone(deployment('redis-cart'));
    sts.kind = 'StatefulSet';
    (sts.metadata as any).name = 'redis-cart-sts';
    delete (sts.metadata as any).resourceVersion;
    api.create(sts);
    const d = driver({ workloads: [{ workload: 'redis', namespace: NS, kind: 'StatefulSet', name: 'redis-cart-sts' }] });
    expect(await d.apply(scale('redis', 'a', 1, 3))).toEqual({ ok: true });
    expect(api.requests.some((r) => r.method === 'PUT' && r.path === `/apis/apps/v1/namespaces/${NS}/statefulsets/redis-cart-sts/scale`)).toBe(true);
    expect((api.get('statefulsets', NS, 'redis-cart-sts')!.spec as any).replicas).toBe(3);
  });

  it('maps a missing object to a permanent error that says what to check', async () => {
    const r = await driver({ workloads: [{ workload: 'ghost', namespace: NS, kind: 'Deployment', name: 'ghost' }] }).apply(scale('ghost', 'a', 1, 2));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toContain(`Deployment ${NS}/ghost not found (404): deployments.apps "ghost" not found; check the namespace, kind and name`);
  });

  it.each([
    [429, true],
    [500, true],
    [503, true],
    [400, false],
  ])('maps an API answer %i to retryable=%s', async (code, retryable) => {
    api.inject({ code });
    const r = await driver().apply(scale('frontend', 'a', 1, 2));
    expect(r).toMatchObject({ ok: false, retryable });
    expect(r.error).toContain(`API server answered ${code}: injected fault ${code}`);
  });

  it('maps rejected credentials (401) to a permanent error', async () => {
    const wrong = writeKubeconfig(currentServer(), 'wrong-token');
    const r = await new KubernetesDriver({ kubeconfig: wrong, context: 'fake', workloads: everyWorkload() }).apply(scale('frontend', 'a', 1, 2));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toContain("did not accept headroom's credentials (401)");
  });

  it('gives up on a request the API server does not answer (retryable), and sends its user agent', async () => {
    api.inject({ code: 0, hang: true });
    const r = await driver({ requestTimeoutMs: 300 }).apply(scale('frontend', 'a', 1, 2));
    expect(r).toMatchObject({ ok: false, retryable: true });
    expect(r.error).toContain('API server did not answer in time');
    expect(api.requests[0].userAgent).toBe('headroom-kubernetes-driver');
  });

  it('refuses an API server whose certificate the kubeconfig does not trust (permanent: a config problem)', async () => {
    const untrusted = writeKubeconfig(currentServer(), TOKEN, '');
    const r = await new KubernetesDriver({ kubeconfig: untrusted, context: 'fake', workloads: everyWorkload() }).apply(scale('frontend', 'a', 1, 2));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(/TLS certificate is not trusted \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\); check certificate-authority in the kubeconfig/);
    expect(api.requests).toEqual([]);
  });

  it('maps an unreachable API server to a retryable error', async () => {
    const d = driver();
    await api.stop();
    const r = await d.apply(scale('frontend', 'a', 1, 2));
    expect(r.ok).toBe(false);
    expect(r.retryable).toBe(true);
    expect(r.error).toContain('API server unreachable');
  });

  it('rejects node actions with a clear permanent error, or acknowledges them without a call when delegated', async () => {
    const nodes: Action = { ...base(), kind: 'scaleNodes', pool: 'pool-a', fromNodes: 2, toNodes: 3 };
    const r = await driver().apply(nodes);
    expect(r.ok).toBe(false);
    expect(r.retryable).toBe(false);
    expect(r.error).toContain('the kubernetes driver does not manage nodes ("scaleNodes" on pool "pool-a")');
    expect(await driver({ nodeActions: 'delegate' }).apply({ ...nodes, id: 'delegated' })).toEqual({ ok: true });
    expect(api.requests).toEqual([]);
  });

  it('with nodeActions clusterApi, scales the pool\'s Cluster API MachineDeployment through its scale subresource, once per id', async () => {
    api.create({
      apiVersion: 'cluster.x-k8s.io/v1beta1',
      kind: 'MachineDeployment',
      metadata: { name: 'shop-md-zone-a', namespace: 'capi' },
      spec: { clusterName: 'shop', replicas: 2, template: { spec: { clusterName: 'shop', version: 'v1.31.0' } } },
      status: { selector: 'cluster.x-k8s.io/deployment-name=shop-md-zone-a' },
    });
    const capi = () => driver({ nodeActions: 'clusterApi', nodePools: [{ pool: 'zone-a', namespace: 'capi', name: 'shop-md-zone-a' }] });
    const grow: Action = { ...base(), kind: 'scaleNodes', pool: 'zone-a', fromNodes: 2, toNodes: 4 };
    expect(await capi().apply(grow)).toEqual({ ok: true });
    const put = api.requests.find((r) => r.method === 'PUT')!;
    expect(put.path).toBe('/apis/cluster.x-k8s.io/v1beta1/namespaces/capi/machinedeployments/shop-md-zone-a/scale');
    expect((put.body as any).spec.replicas).toBe(4);
    expect(api.requests.filter((r) => r.method === 'PATCH').map((r) => r.contentType)).toEqual(['application/merge-patch+json']);
    const md = api.get('machinedeployments', 'capi', 'shop-md-zone-a')!;
    expect((md.spec as any).replicas).toBe(4);
    expect((md.spec as any).template).toEqual({ spec: { clusterName: 'shop', version: 'v1.31.0' } });
    // Machines come up one by one: 3 of 4 ready.
    api.setReadyReplicas('machinedeployments', 'capi', 'shop-md-zone-a', 3);
    const state = await capi().observe();
    expect(state.readyNodesByPool).toEqual({ 'zone-a': 3 });
    expect(state.pendingNodesByPool).toEqual({ 'zone-a': 1 });
    // A restarted headroom resending the id writes nothing.
    const before = api.requests.length;
    expect(await capi().apply(grow)).toEqual({ ok: true });
    expect(api.requests.slice(before).map((r) => r.method)).toEqual(['GET']);
    // A pool without a MachineDeployment, and reservations, are permanent errors.
    expect(await capi().apply({ ...grow, id: 'other-pool', pool: 'zone-b' })).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('pool "zone-b" has no MachineDeployment in nodePools (mapped: zone-a)') });
    expect(await capi().apply({ ...base(), kind: 'reserve', pool: 'zone-a', fromNodes: 0, toNodes: 2 })).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('does not buy or release reservations') });
  });

  it('observes nodes by pool label: Ready ones as ready, the others as pending', async () => {
    api.addNode('n1', { 'karpenter.sh/nodepool': 'general' }, true);
    api.addNode('n2', { 'karpenter.sh/nodepool': 'general' }, false);
    api.addNode('n3', { 'karpenter.sh/nodepool': 'spot' }, true);
    api.addNode('n4', {}, true);
    const state = await driver({ nodePoolLabel: 'karpenter.sh/nodepool' }).observe();
    expect(state.readyNodesByPool).toEqual({ general: 1, spot: 1 });
    expect(state.pendingNodesByPool).toEqual({ general: 1, spot: 0 });
  });

  it('rolls a phased plan back on the real objects when a later phase is rejected', async () => {
    const before = { frontend: deployment('frontend'), cart: deployment('cartservice') };
    const plan: Action[] = [
      scale('frontend', 'a', 1, 3, 0),
      { ...base(0), kind: 'resizeWorkload', workload: 'cartservice', from: { requests: { cpuMillicores: 200 } }, to: { requests: { cpuMillicores: 250 } } },
      scale('cartservice', 'a', 1, 2, 1),
      // Requests above the 300m limit: the API server rejects it (422), so phases 0 and 1 are undone.
      { ...base(1), kind: 'resizeWorkload', workload: 'cartservice', from: { requests: { cpuMillicores: 250 } }, to: { requests: { cpuMillicores: 900 } } },
    ];
    const out = await executePhases(plan, driver(), new MemoryActionLog(), { now: () => 0, sleep: async () => {} });
    expect(out.status).toBe('rolledBack');
    expect(out.failedPhase).toBe(1);
    expect(out.rollback.map((r) => r.action.id)).toEqual([`${plan[2].id}/rollback`, `${plan[1].id}/rollback`, `${plan[0].id}/rollback`]);
    expect(replicasOf('frontend')).toBe(1);
    expect(replicasOf('cartservice')).toBe(1);
    expect(container('cartservice')).toEqual((before.cart.spec as any).template.spec.containers[0]);
    expect((deployment('frontend').spec as any).template).toEqual((before.frontend.spec as any).template);
  });
});

function currentServer(): string {
  return (/server: "([^"]+)"/.exec(readFileSync(kubeconfigPath, 'utf8')) as RegExpExecArray)[1];
}

describe('Kubernetes driver config', () => {
  const ok = { workload: 'w', namespace: 'shop', kind: 'Deployment', name: 'web' };
  it.each([
    [{ workloads: [] }, 'kubernetes driver config.workloads: map at least one workload to a Kubernetes object'],
    [{ workloads: [{ ...ok, kind: 'DaemonSet' }] }, "kubernetes driver config.workloads[0].kind: Invalid enum value. Expected 'Deployment' | 'StatefulSet', received 'DaemonSet'"],
    [{ workloads: [{ ...ok, namespace: 'Shop_1' }] }, 'kubernetes driver config.workloads[0].namespace: must be a DNS-1123 label (lower-case letters, digits and "-", at most 63)'],
    [{ workloads: [ok, { ...ok, name: 'web2', pool: 'a' }] }, 'kubernetes driver config.workloads[1].pool: workload "w" mixes an object for all pools with per-pool objects: give every mapping a pool, or one mapping without'],
    [{ workloads: [ok, { ...ok, workload: 'v' }] }, 'kubernetes driver config.workloads[1].name: Deployment shop/web is already mapped (workloads[0])'],
    [{ workloads: [{ ...ok, pool: 'a' }, { ...ok, pool: 'a', name: 'web2' }] }, 'kubernetes driver config.workloads[1]: workload "w" in pool "a" is mapped twice'],
    [{ workloads: [ok], dryrun: true }, "kubernetes driver config: Unrecognized key(s) in object: 'dryrun'"],
    [{ workloads: [ok], nodeActions: 'clusterApi' }, 'kubernetes driver config.nodePools: nodeActions clusterApi needs the MachineDeployment of each pool in nodePools'],
    [{ workloads: [ok], nodePools: [{ pool: 'a', namespace: 'capi', name: 'md' }] }, 'kubernetes driver config.nodePools: nodePools is used only with nodeActions: clusterApi'],
  ])('rejects %j', (config, message) => {
    let error: unknown;
    try {
      new KubernetesDriver({ kubeconfig: kubeconfigPath, context: 'fake', ...config } as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe(message);
  });

  it('names a context that the kubeconfig lacks, and a kubeconfig that cannot be read', () => {
    expect(() => new KubernetesDriver({ kubeconfig: kubeconfigPath, context: 'staging', workloads: [ok as never] })).toThrow(
      'kubernetes driver config.context: no context "staging" in the kubeconfig (has: fake, prod)',
    );
    expect(() => new KubernetesDriver({ kubeconfig: '/nonexistent/kubeconfig', workloads: [ok as never] })).toThrow(/^\/nonexistent\/kubeconfig: cannot be loaded/);
  });

  it('says so when no kubeconfig can be found at all, instead of talking to localhost:8080', () => {
    const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME, KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST };
    try {
      delete process.env.KUBECONFIG;
      delete process.env.KUBERNETES_SERVICE_HOST;
      process.env.HOME = tempDir('home');
      expect(() => new KubernetesDriver({ workloads: [ok as never] })).toThrow(
        'kubernetes driver config.kubeconfig: no kubeconfig found: give its path, set KUBECONFIG, create ~/.kube/config, or run headroom in the cluster',
      );
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});

describeDriverContract('KubernetesDriver (fake API server, Online Boutique frontend)', async () => {
  const workloads: KubernetesConfig['workloads'] = [{ workload: 'frontend', pool: 'a', namespace: NS, kind: 'Deployment', name: 'frontend' }];
  // api and kubeconfigPath come from this file's beforeEach.
  return {
    driver: driver({ workloads }),
    workload: 'frontend',
    pool: 'a',
    initialInstances: 1,
    restarted: () => driver({ workloads }),
  };
});
