/**
 * The fake Kubernetes API server's own tests: it must answer as the API
 * server does where the Kubernetes driver depends on it (no real API server
 * can run here, so this is what keeps the fake honest). Expected bodies and
 * messages are those of kube-apiserver (Status objects, conflict and
 * validation messages); the real client (@kubernetes/client-node) is used
 * where it is the driver's path, raw HTTP where the exact body matters.
 */
import { readFileSync } from 'node:fs';
import { AppsV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeKubeApi, mergePatch, strategicMergePatch } from './fakeKubeApi.ts';

const MANIFESTS = readFileSync(new URL('../../data/online-boutique/kubernetes-manifests.yaml', import.meta.url), 'utf8');
const TOKEN = 't0ken';
let api: FakeKubeApi;
let server: string;
let apps: AppsV1Api;

beforeEach(async () => {
  api = new FakeKubeApi({ token: TOKEN });
  api.load(MANIFESTS);
  server = await api.start();
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server, skipTLSVerify: true }],
    users: [{ name: 'u', token: TOKEN }],
    contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
    currentContext: 'c',
  });
  apps = kc.makeApiClient(AppsV1Api);
});

afterEach(async () => {
  await api.stop();
});

const path = (name: string, sub = '') => `${server}/apis/apps/v1/namespaces/default/deployments/${name}${sub}`;
async function raw(method: string, url: string, body?: unknown, contentType = 'application/json', token = TOKEN) {
  const res = await fetch(url, { method, headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
}

describe('FakeKubeApi answers like kube-apiserver', () => {
  it('loads the 12 Deployments of the real manifests (Services and ServiceAccounts are skipped)', () => {
    expect(api.load(MANIFESTS, 'second').sort()).toHaveLength(12);
  });

  it('answers a missing object with a NotFound Status', async () => {
    expect(await raw('GET', path('nope'))).toEqual({
      status: 404,
      body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'deployments.apps "nope" not found', reason: 'NotFound', details: { name: 'nope', group: 'apps', kind: 'deployments' }, code: 404 },
    });
    expect((await raw('GET', `${server}/apis/apps/v1/namespaces/default/daemonsets/x`)).body.message).toBe('the server could not find the requested resource');
  });

  it('requires the bearer token', async () => {
    expect((await raw('GET', path('frontend'), undefined, 'application/json', 'other')).body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });

  it('serves the scale subresource as an autoscaling/v1 Scale with the label selector', async () => {
    const scale = await apps.readNamespacedDeploymentScale({ name: 'frontend', namespace: 'default' });
    expect(scale).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'frontend', namespace: 'default' }, spec: { replicas: 1 }, status: { replicas: 1, selector: 'app=frontend' } });
    const patched = await apps.patchNamespacedDeploymentScale({ name: 'frontend', namespace: 'default', body: { spec: { replicas: 4 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(patched.spec!.replicas).toBe(4);
    expect((api.get('deployments', 'default', 'frontend')!.status as any).replicas).toBe(4);
  });

  it('rejects negative replicas with an Invalid Status (422) and a stale resourceVersion with a Conflict (409)', async () => {
    const current = await apps.readNamespacedDeployment({ name: 'cartservice', namespace: 'default' });
    const rv = current.metadata!.resourceVersion!;
    const bad = await raw('PUT', path('cartservice', '/scale'), { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'cartservice', resourceVersion: rv }, spec: { replicas: -1 } });
    expect(bad).toEqual({
      status: 422,
      body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Scale.autoscaling "cartservice" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0', reason: 'Invalid', code: 422 },
    });
    await apps.patchNamespacedDeployment({ name: 'cartservice', namespace: 'default', body: { metadata: { labels: { x: 'y' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const stale = await raw('PUT', path('cartservice', '/scale'), { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'cartservice', resourceVersion: rv }, spec: { replicas: 2 } });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on deployments.apps "cartservice": the object has been modified; please apply your changes to the latest version and try again',
      details: { name: 'cartservice', group: 'apps', kind: 'deployments' },
    });
    // Conflict is checked before validation, as the API server does.
    expect((await raw('PUT', path('cartservice', '/scale'), { metadata: { resourceVersion: rv }, spec: { replicas: -5 } })).status).toBe(409);
  });

  it('bumps resourceVersion on every persisted write and generation only when the spec changes', async () => {
    const meta = () => api.get('deployments', 'default', 'adservice')!.metadata as { resourceVersion: string; generation: number };
    const rv0 = Number(meta().resourceVersion);
    await apps.patchNamespacedDeployment({ name: 'adservice', namespace: 'default', body: { metadata: { annotations: { a: 'b' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(Number(meta().resourceVersion)).toBeGreaterThan(rv0);
    expect(meta().generation).toBe(1);
    await apps.patchNamespacedDeployment({ name: 'adservice', namespace: 'default', body: { spec: { replicas: 2 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(meta().generation).toBe(2);
  });

  it('applies strategic merge patches by merge key: containers by name, env by name, $patch: delete, null removes', async () => {
    const body = {
      spec: {
        template: {
          spec: {
            containers: [{ name: 'server', env: [{ name: 'PORT', value: '9090' }, { name: 'NEW', value: '1' }, { name: 'ENABLE_PROFILER', $patch: 'delete' }], readinessProbe: null }],
          },
        },
      },
    };
    const d = await apps.patchNamespacedDeployment({ name: 'frontend', namespace: 'default', body }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    const c = d.spec!.template.spec!.containers[0];
    expect(c.image).toBe('us-central1-docker.pkg.dev/online-boutique-ci/microservices-demo/frontend:v0.10.6');
    const env = Object.fromEntries(c.env!.map((e) => [e.name, e.value]));
    expect(env.PORT).toBe('9090');
    expect(env.NEW).toBe('1');
    expect(env.PRODUCT_CATALOG_SERVICE_ADDR).toBe('productcatalogservice:3550');
    expect('ENABLE_PROFILER' in env).toBe(false);
    expect(c.env).toHaveLength(10);
    expect(c.readinessProbe).toBeUndefined();
    expect(c.livenessProbe).toBeDefined();
  });

  it('applies merge patches per RFC 7386: a list is replaced whole, so a container without image is invalid', async () => {
    const r = await raw('PATCH', path('frontend'), { spec: { template: { spec: { containers: [{ name: 'server', resources: {} }] } } } }, 'application/merge-patch+json');
    expect(r.status).toBe(422);
    expect(r.body.message).toBe('Deployment.apps "frontend" is invalid: spec.template.spec.containers[0].image: Required value');
    expect(mergePatch({ a: [1, 2], b: { c: 1, d: 2 } }, { a: [3], b: { c: null } })).toEqual({ a: [3], b: { d: 2 } });
  });

  it('applies JSON patches per RFC 6902, a failed test operation being rejected', async () => {
    const ok = await raw('PATCH', path('emailservice'), [{ op: 'replace', path: '/spec/replicas', value: 3 }], 'application/json-patch+json');
    expect(ok.status).toBe(200);
    expect(ok.body.spec.replicas).toBe(3);
    const failed = await raw('PATCH', path('emailservice'), [{ op: 'test', path: '/spec/replicas', value: 1 }, { op: 'replace', path: '/spec/replicas', value: 9 }], 'application/json-patch+json');
    expect(failed.status).toBe(422);
    expect((api.get('deployments', 'default', 'emailservice')!.spec as any).replicas).toBe(3);
  });

  it('serves Cluster API MachineDeployments as a custom resource: no strategic merge, CR-style names in errors', async () => {
    api.create({ apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'MachineDeployment', metadata: { name: 'md', namespace: 'capi' }, spec: { replicas: 1 }, status: { selector: 'pool=a' } });
    const md = `${server}/apis/cluster.x-k8s.io/v1beta1/namespaces/capi/machinedeployments`;
    expect((await raw('PATCH', `${md}/md`, { spec: { replicas: 2 } }, 'application/strategic-merge-patch+json')).status).toBe(415);
    expect((await raw('PATCH', `${md}/md`, { spec: { replicas: 2 } }, 'application/merge-patch+json')).body.spec.replicas).toBe(2);
    expect((await raw('GET', `${md}/md/scale`)).body).toMatchObject({ kind: 'Scale', spec: { replicas: 2 }, status: { replicas: 2, selector: 'pool=a' } });
    expect((await raw('GET', `${md}/gone`)).body.message).toBe('machinedeployments.cluster.x-k8s.io "gone" not found');
    expect((await raw('GET', `${server}/apis/apps/v1/namespaces/capi/machinedeployments/md`)).status).toBe(404);
  });

  it('refuses an unknown patch type with 415', async () => {
    const r = await raw('PATCH', path('frontend'), { spec: {} }, 'application/xml');
    expect(r.status).toBe(415);
    expect(r.body.reason).toBe('UnsupportedMediaType');
  });

  it('with dryRun=All validates and answers the would-be object without persisting it; another value is a 400', async () => {
    const before = api.get('deployments', 'default', 'shippingservice')!;
    const d: V1Deployment = await apps.patchNamespacedDeployment(
      { name: 'shippingservice', namespace: 'default', body: { spec: { replicas: 7 } }, dryRun: 'All' },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(d.spec!.replicas).toBe(7);
    expect(d.metadata!.resourceVersion).toBe((before.metadata as any).resourceVersion);
    expect(api.get('deployments', 'default', 'shippingservice')).toEqual(before);
    const invalid = await raw('PATCH', `${path('shippingservice')}?dryRun=All`, { spec: { replicas: -2 } }, 'application/merge-patch+json');
    expect(invalid.status).toBe(422);
    expect((await raw('PATCH', `${path('shippingservice')}?dryRun=Yes`, { spec: { replicas: 2 } }, 'application/merge-patch+json')).status).toBe(400);
  });

  it('rejects requests above limits and malformed quantities as the API server does', async () => {
    const r = await raw('PATCH', path('adservice'), { spec: { template: { spec: { containers: [{ name: 'server', resources: { requests: { memory: '12 Gi' } } }] } } } }, 'application/strategic-merge-patch+json');
    expect(r.status).toBe(422);
    expect(r.body.message).toContain('spec.template.spec.containers[0].resources.requests[memory]: Invalid value: "12 Gi": quantities must match the regular expression');
  });
});

describe('strategicMergePatch', () => {
  it.each([
    ['merges maps and removes null fields', { a: 1, b: { c: 2, d: 3 } }, { b: { c: null, e: 4 } }, { a: 1, b: { d: 3, e: 4 } }],
    ['replaces lists without a merge key', { args: ['a', 'b'] }, { args: ['c'] }, { args: ['c'] }],
    ['merges containers by name, appending new ones', { containers: [{ name: 'x', image: 'i' }] }, { containers: [{ name: 'x', image: 'j' }, { name: 'y', image: 'k' }] }, { containers: [{ name: 'x', image: 'j' }, { name: 'y', image: 'k' }] }],
    ['deletes a list element with $patch: delete', { ports: [{ containerPort: 80 }, { containerPort: 443 }] }, { ports: [{ containerPort: 80, $patch: 'delete' }] }, { ports: [{ containerPort: 443 }] }],
    ['replaces a list with $patch: replace', { env: [{ name: 'A' }, { name: 'B' }] }, { env: [{ name: 'C' }, { $patch: 'replace' }] }, { env: [{ name: 'C' }] }],
    ['replaces a map with $patch: replace', { resources: { requests: { cpu: '1' }, limits: { cpu: '2' } } }, { resources: { $patch: 'replace', limits: { cpu: '3' } } }, { resources: { limits: { cpu: '3' } } }],
    ['ignores $setElementOrder directives', { env: [{ name: 'A' }] }, { '$setElementOrder/env': [{ name: 'A' }], env: [{ name: 'A', value: '1' }] }, { env: [{ name: 'A', value: '1' }] }],
  ])('%s', (_name, target, patch, expected) => {
    expect(strategicMergePatch(target as never, patch as never)).toEqual(expected);
  });
});
