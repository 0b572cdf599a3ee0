/**
 * Import of the real Online Boutique manifests (data/online-boutique, an
 * unchanged copy of the release file), and small hand-written manifests for
 * the rules the real file does not exercise.
 */
import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../core/errors.ts';
import { thrown } from '../../test/helpers.ts';
import { parseManifests, readManifests } from './manifests.ts';

const BOUTIQUE_MANIFESTS = resolve(fileURLToPath(import.meta.url), '../../../data/online-boutique/kubernetes-manifests.yaml');

describe('the real Online Boutique manifests', () => {
  const m = readManifests(BOUTIQUE_MANIFESTS);

  it('has the 12 Deployments, in file order', () => {
    expect(m.services.map((s) => s.name)).toEqual([
      'frontend',
      'adservice',
      'currencyservice',
      'cartservice',
      'redis-cart',
      'loadgenerator',
      'recommendationservice',
      'checkoutservice',
      'emailservice',
      'paymentservice',
      'shippingservice',
      'productcatalogservice',
    ]);
    expect(m.services.every((s) => s.kind === 'Deployment')).toBe(true);
  });

  it('reads every CPU and memory request and limit exactly as written', () => {
    // name: [cpu request m, memory request Mi, cpu limit m, memory limit Mi], copied by hand from the file.
    const want: Record<string, [number, number, number, number]> = {
      frontend: [100, 64, 200, 128],
      adservice: [200, 180, 300, 300],
      currencyservice: [100, 64, 200, 128],
      cartservice: [200, 64, 300, 128],
      'redis-cart': [70, 200, 125, 256],
      loadgenerator: [300, 256, 500, 512],
      recommendationservice: [100, 220, 200, 450],
      checkoutservice: [100, 64, 200, 128],
      emailservice: [100, 64, 200, 128],
      paymentservice: [100, 64, 200, 128],
      shippingservice: [100, 64, 200, 128],
      productcatalogservice: [100, 64, 200, 128],
    };
    const got = Object.fromEntries(
      m.services.map((s) => [s.name, [s.podRequests.cpuMillicores, s.podRequests.memoryMiB, s.podLimits.cpuMillicores, s.podLimits.memoryMiB]]),
    );
    expect(got).toEqual(want);
    // One container each; the load generator's init container (frontend-check) requests nothing.
    expect(m.services.find((s) => s.name === 'redis-cart')!.containers).toEqual([
      { name: 'redis', image: 'redis:alpine', requests: { cpuMillicores: 70, memoryMiB: 200 }, limits: { cpuMillicores: 125, memoryMiB: 256 } },
    ]);
  });

  it('turns the *_ADDR variables into edges through the Services', () => {
    const edges = m.edges.map((e) => `${e.from} -> ${e.to}`);
    expect(edges).toEqual([
      'frontend -> productcatalogservice',
      'frontend -> currencyservice',
      'frontend -> cartservice',
      'frontend -> recommendationservice',
      'frontend -> shippingservice',
      'frontend -> checkoutservice',
      'frontend -> adservice',
      'cartservice -> redis-cart',
      'loadgenerator -> frontend',
      'recommendationservice -> productcatalogservice',
      'checkoutservice -> productcatalogservice',
      'checkoutservice -> shippingservice',
      'checkoutservice -> paymentservice',
      'checkoutservice -> emailservice',
      'checkoutservice -> currencyservice',
      'checkoutservice -> cartservice',
    ]);
    const cart = m.edges.find((e) => e.from === 'frontend' && e.to === 'cartservice')!;
    expect(cart).toMatchObject({ envVar: 'CART_SERVICE_ADDR', address: 'cartservice:7070', viaService: 'cartservice' });
    expect(cart.where).toBe(`${BOUTIQUE_MANIFESTS}:79: Deployment frontend container server env CART_SERVICE_ADDR`);
  });

  it('reports the shopping assistant address, whose Service is not in the release manifests, instead of inventing an edge', () => {
    expect(m.unresolved).toEqual([
      {
        from: 'frontend',
        envVar: 'SHOPPING_ASSISTANT_SERVICE_ADDR',
        address: 'shoppingassistantservice:80',
        where: `${BOUTIQUE_MANIFESTS}:89: Deployment frontend container server env SHOPPING_ASSISTANT_SERVICE_ADDR`,
        problem: `no Service named "shoppingassistantservice" in ${BOUTIQUE_MANIFESTS}`,
      },
    ]);
  });

  it('marks redis-cart stateful, the frontend exposed and the load generator a client', () => {
    const by = new Map(m.services.map((s) => [s.name, s]));
    expect(m.services.filter((s) => s.stateful).map((s) => s.name)).toEqual(['redis-cart']);
    expect(by.get('redis-cart')!.stateful).toEqual({ kind: 'cache', reason: 'image "redis:alpine" is a cache (redis)' });
    expect(m.services.filter((s) => s.exposed).map((s) => s.name)).toEqual(['frontend']);
    expect(by.get('frontend')!.services).toEqual(['frontend', 'frontend-external']);
    expect(m.services.filter((s) => s.client).map((s) => s.name)).toEqual(['loadgenerator']);
  });
});

describe('rules on small manifests', () => {
  const deployment = (name: string, podSpec: string, extra = '') => `apiVersion: apps/v1
kind: ${extra || 'Deployment'}
metadata:
  name: ${name}
spec:
  template:
    metadata:
      labels: { app: ${name} }
    spec:
${podSpec}
`;
  const service = (name: string, type = 'ClusterIP', app = name) => `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec: { type: ${type}, selector: { app: ${app} }, ports: [{ port: 80 }] }
`;

  it('a pod requests the sum of its containers, or its largest init container if that is more; a limitless container makes the pod limitless', () => {
    const text = deployment(
      'api',
      `      initContainers:
        - { name: migrate, image: tool, resources: { requests: { cpu: "2", memory: 32Mi } } }
      containers:
        - { name: app, image: api:1, resources: { requests: { cpu: 250m, memory: 1Gi }, limits: { cpu: 500m, memory: 1Gi } } }
        - { name: proxy, image: envoy:1, resources: { requests: { cpu: 0.1, memory: 128M }, limits: { memory: 256Mi } } }`,
    );
    const [api] = parseManifests(text, 'm.yaml').services;
    // CPU: max(250 + 100, 2000) = 2000; memory: max(1024 + 122.07…, 32).
    expect(api.podRequests.cpuMillicores).toBe(2000);
    expect(api.podRequests.memoryMiB).toBeCloseTo(1024 + 128e6 / 2 ** 20, 9);
    expect(api.podLimits).toEqual({ memoryMiB: 1280 });
    expect(api.client).toBe(true);
  });

  it('addresses in other forms resolve; a Service selecting nothing is reported', () => {
    const text = [
      deployment('web', `      containers:\n        - name: app\n          env:\n            - { name: DB_ADDR, value: "db.default.svc.cluster.local:5432" }\n            - { name: CACHE_ADDR, value: "http://cache:6379/0" }\n            - { name: GHOST_ADDR, value: "ghost:1" }\n            - { name: SELF_ADDR, value: "web:80" }\n            - { name: PORT, value: "8080" }`),
      deployment('db', `      containers:\n        - { name: pg, image: "docker.io/library/postgres:16@sha256:abc" }`),
      deployment('cache', `      containers:\n        - { name: c, image: ghcr.io/x/app:1 }\n      volumes:\n        - { name: d, persistentVolumeClaim: { claimName: d } }`),
      service('web', 'NodePort'),
      service('db'),
      service('cache'),
      service('ghost', 'ClusterIP', 'nobody'),
    ].join('---\n');
    const m = parseManifests(text, 'm.yaml');
    expect(m.edges.map((e) => `${e.from} -> ${e.to} (${e.envVar})`)).toEqual(['web -> db (DB_ADDR)', 'web -> cache (CACHE_ADDR)']);
    expect(m.unresolved.map((u) => `${u.envVar}: ${u.problem}`)).toEqual(['GHOST_ADDR: Service "ghost" selects no Deployment or StatefulSet in m.yaml']);
    const by = new Map(m.services.map((s) => [s.name, s]));
    expect(by.get('db')!.stateful).toEqual({ kind: 'database', reason: 'image "docker.io/library/postgres:16@sha256:abc" is a database (postgres)' });
    expect(by.get('cache')!.stateful).toEqual({ kind: 'storage', reason: 'mounts PersistentVolumeClaim volume "d"' });
    expect(by.get('web')!.exposed).toBe(true);
    expect(by.get('web')!.stateful).toBeUndefined();
  });

  it('Services select, and short addresses resolve, within their own namespace', () => {
    const inNs = (ns: string, doc: string) => doc.replace(/metadata:\n  name: (\S+)/, `metadata:\n  name: $1\n  namespace: ${ns}`).replace(/metadata: \{ name: (\S+) \}/, `metadata: { name: $1, namespace: ${ns} }`);
    const text = [
      inNs('shop', deployment('web', `      containers:\n        - name: app\n          env:\n            - { name: DB_ADDR, value: "db:5432" }\n            - { name: AUTH_ADDR, value: "auth.identity:443" }`)),
      inNs('shop', deployment('db', `      containers:\n        - { name: pg, image: postgres:16 }`)),
      inNs('other', service('db')), // same name and labels, another namespace: selects nothing of shop's
      inNs('identity', deployment('auth', `      containers:\n        - { name: a, image: auth:1 }`)),
      inNs('identity', service('auth')),
    ].join('---\n');
    const m = parseManifests(text, 'm.yaml');
    expect(m.edges.map((e) => `${e.from} -> ${e.to}`)).toEqual(['web -> auth']);
    expect(m.unresolved.map((u) => u.problem)).toEqual(['no Service named "db" in namespace "shop" in m.yaml']);
    expect(m.kubernetesServices.map((s) => `${s.namespace}/${s.name}`)).toEqual(['other/db', 'identity/auth']);
    expect(m.services.find((s) => s.name === 'db')!.client).toBe(true);
  });

  it('a StatefulSet is stateful', () => {
    const m = parseManifests(deployment('q', `      containers:\n        - { name: q, image: myq:1 }`, 'StatefulSet'), 'm.yaml');
    expect(m.services[0]).toMatchObject({ kind: 'StatefulSet', stateful: { kind: 'storage', reason: 'is a StatefulSet' } });
  });

  it('bad quantities and bad objects name the file, line, workload and field', () => {
    const bad = `kind: ServiceAccount\nmetadata: { name: x }\n---\n` + deployment('api', `      containers:\n        - { name: app, resources: { requests: { memory: 64MB } } }`);
    const e = thrown(() => parseManifests(bad, 'm.yaml'));
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e.message).toBe('m.yaml:4: Deployment api container app resources.requests.memory: "64MB" has unknown unit "MB" (Kubernetes quantities use n, u, m, (none), k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, or an exponent such as e3)');
    expect(thrown(() => parseManifests(deployment('api', '      containers: []'), 'm.yaml')).message).toContain('m.yaml:1: Deployment api: spec.template.spec.containers:');
    expect(thrown(() => parseManifests('kind: Deployment\nmetadata: { name: a\n', 'm.yaml')).message).toContain('m.yaml:');
    expect(thrown(() => parseManifests([deployment('a', '      containers: [{ name: x }]'), deployment('a', '      containers: [{ name: y }]')].join('---\n'), 'm.yaml')).message).toContain(
      'a workload named "a" is already declared at m.yaml:1',
    );
  });

  it('a missing file is named', () => {
    expect(thrown(() => readManifests('/nonexistent/k8s.yaml')).message).toBe('/nonexistent/k8s.yaml: manifests file not found');
  });
});
