/**
 * The Online Boutique request mix: the real locustfile's weights, the
 * derived ratios against the table worked out by hand in
 * docs/dependency-graph.md, and 100 front-door requests/s propagated through
 * the graph imported from the real manifests.
 */
import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { thrown } from '../../test/helpers.ts';
import { readManifests } from '../ingest/manifests.ts';
import { parseLocustTaskWeights, readLocustTaskWeights } from '../ingest/locust.ts';
import { edgeTraffic, propagateRates } from './graph.ts';
import { graphFromManifests } from './fromManifests.ts';
import { BOUTIQUE_ASSUMPTIONS, deriveBoutiqueRatios, LOCUST_TASK_WEIGHTS } from './onlineBoutique.ts';

const DATA = resolve(fileURLToPath(import.meta.url), '../../../data/online-boutique');
const manifests = () => readManifests(resolve(DATA, 'kubernetes-manifests.yaml'));

describe('the load generator mix', () => {
  it('the weights in the real locustfile are the ones the table uses', () => {
    expect(readLocustTaskWeights(resolve(DATA, 'locustfile.py'))).toEqual(LOCUST_TASK_WEIGHTS);
    expect(LOCUST_TASK_WEIGHTS).toEqual({ index: 1, setCurrency: 2, browseProduct: 10, addToCart: 2, viewCart: 3, checkout: 1 });
  });

  it('a locustfile without a tasks dict, or with one it cannot read, is refused', () => {
    expect(thrown(() => parseLocustTaskWeights('class U(HttpUser):\n    pass\n', 'l.py')).message).toBe('l.py: no `tasks = {function: weight, ...}` dict found; give the task weights another way');
    expect(thrown(() => parseLocustTaskWeights('    tasks = {index: 1, other: w}\n', 'l.py')).message).toBe('l.py: cannot read task weight "other: w" (expected name: integer)');
  });
});

describe('derived ratios (hand-computed in docs/dependency-graph.md)', () => {
  const d = deriveBoutiqueRatios();
  const ratio = (from: string, to: string) => d.edges.find((e) => e.from === from && e.to === to)?.callsPerRequest;

  it('19 user actions make 28 frontend requests', () => {
    // index 1 + setCurrency 2·2 + browse 10 + addToCart 2·3 + viewCart 3 + checkout 4 = 28.
    expect(d.tasksPerRound).toBe(19);
    expect(d.frontendRequestsPerRound).toBe(28);
    expect(d.perFrontendRequest['frontend GET /']).toBeCloseTo(3 / 28, 12);
    expect(d.perFrontendRequest['frontend GET /product/{id}']).toBeCloseTo(13 / 28, 12);
    expect(d.perFrontendRequest['frontend GET /cart']).toBeCloseTo(6 / 28, 12);
  });

  it.each([
    // from, to, calls per 28 frontend requests (or per request of the caller), divisor
    ['loadgenerator', 'frontend', 28, 19],
    ['frontend', 'currencyservice', 87, 28], // 3·10 + 13·2 + 6·5 + 1·1
    ['frontend', 'productcatalogservice', 137, 28], // 3·1 + 13·6 + 3·1 + 6·8 + 1·5
    ['frontend', 'cartservice', 25, 28], // 3 + 13 + 3 + 6
    ['frontend', 'adservice', 16, 28], // 3 + 13
    ['frontend', 'recommendationservice', 20, 28], // 13 + 6 + 1
    ['frontend', 'shippingservice', 6, 28],
    ['frontend', 'checkoutservice', 1, 28],
    ['checkoutservice', 'cartservice', 2, 1],
    ['checkoutservice', 'productcatalogservice', 3, 1],
    ['checkoutservice', 'currencyservice', 4, 1],
    ['checkoutservice', 'shippingservice', 2, 1],
    ['checkoutservice', 'paymentservice', 1, 1],
    ['checkoutservice', 'emailservice', 1, 1],
    ['recommendationservice', 'productcatalogservice', 1, 1],
    ['cartservice', 'redis-cart', 30, 27], // (23 reads + 3·2 add + 1 empty) over 27 cart calls
  ])('%s → %s = %d/%d', (from, to, num, den) => {
    expect(ratio(from, to)).toBeCloseTo(num / den, 12);
  });

  it('has exactly those 16 edges', () => {
    expect(d.edges).toHaveLength(16);
  });

  it('fewer cart lines mean fewer calls (the default 3 is the conservative side)', () => {
    const one = deriveBoutiqueRatios(LOCUST_TASK_WEIGHTS, { ...BOUTIQUE_ASSUMPTIONS, cartLines: 1 });
    const r = (x: typeof one, to: string) => x.edges.find((e) => e.from === 'frontend' && e.to === to)!.callsPerRequest;
    // Cart page: Convert 1 + 1 + C, GetProduct 5 + C: 2 fewer of each per cart page, 6 cart pages per 28 requests.
    expect(r(one, 'currencyservice')).toBeCloseTo((87 - 12) / 28, 12);
    expect(r(one, 'productcatalogservice')).toBeCloseTo((137 - 12) / 28, 12);
    expect(one.edges.find((e) => e.from === 'checkoutservice' && e.to === 'currencyservice')!.callsPerRequest).toBe(2);
  });

  it('without following redirects, 19 actions make 23 frontend requests and the redirect targets lose their share', () => {
    const d2 = deriveBoutiqueRatios(LOCUST_TASK_WEIGHTS, { ...BOUTIQUE_ASSUMPTIONS, followRedirects: false });
    // index 1 + setCurrency 2 + browse 10 + addToCart 2·2 + viewCart 3 + checkout 3 = 23; GET / 1, GET /cart 3.
    expect(d2.frontendRequestsPerRound).toBe(23);
    const r = (to: string) => d2.edges.find((e) => e.from === 'frontend' && e.to === to)!.callsPerRequest;
    // currency: 1·10 + 13·2 + 3·5 + 1 = 52; catalog: 1 + 13·6 + 3 + 3·8 + 5 = 111; shipping 3.
    expect(r('currencyservice')).toBeCloseTo(52 / 23, 12);
    expect(r('productcatalogservice')).toBeCloseTo(111 / 23, 12);
    expect(r('shippingservice')).toBeCloseTo(3 / 23, 12);
  });

  it('unknown task names are refused', () => {
    expect(thrown(() => deriveBoutiqueRatios({ index: 1, logout: 1 })).message).toContain('unknown task "logout"');
  });
});

describe('100 front-door requests/s through the real manifests', () => {
  const { graph, edges, profile } = graphFromManifests(manifests());

  it('picks the online-boutique ratios for these manifests', () => {
    expect(profile).toBe('online-boutique');
    expect(edges.every((e) => e.source === 'online-boutique')).toBe(true);
    expect(graph.order.slice(0, 2)).toEqual(['loadgenerator', 'frontend']);
    expect(graph.order[graph.order.length - 1]).toBe('productcatalogservice');
  });

  it('gives every service the rate of the hand-computed table', () => {
    const d = propagateRates(graph, { frontend: 100 });
    const want: Record<string, number> = {
      loadgenerator: 0,
      frontend: 100,
      currencyservice: (100 * (87 + 4)) / 28, // 325: the frontend's 87/28 plus 4 per checkout
      productcatalogservice: (100 * (137 + 3 + 20)) / 28, // 571.43: frontend, 3 per checkout, 1 per recommendation
      cartservice: (100 * (25 + 2)) / 28, // 96.43
      'redis-cart': (100 * 30) / 28, // 107.14: 30/27 per cart call
      adservice: (100 * 16) / 28, // 57.14
      recommendationservice: (100 * 20) / 28, // 71.43
      shippingservice: (100 * (6 + 2)) / 28, // 28.57
      checkoutservice: 100 / 28, // 3.57
      paymentservice: 100 / 28,
      emailservice: 100 / 28,
    };
    expect(Object.keys(Object.fromEntries(d)).sort()).toEqual(Object.keys(want).sort());
    for (const [s, v] of Object.entries(want)) expect(d.get(s), s).toBeCloseTo(v, 9);
    expect(d.get('currencyservice')).toBeCloseTo(325, 9);
  });

  it('user actions at the load generator become frontend requests', () => {
    expect(propagateRates(graph, { loadgenerator: 19 }).get('frontend')).toBeCloseTo(28, 12);
  });

  it('calls into each service add up to its demand', () => {
    const d = propagateRates(graph, { frontend: 100 });
    const t = edgeTraffic(graph, d);
    for (const s of graph.services.filter((x) => x !== 'frontend' && x !== 'loadgenerator')) {
      const into = t.filter((e) => e.to === s).reduce((a, e) => a + e.callsPerSecond, 0);
      expect(into, s).toBeCloseTo(d.get(s)!, 9);
    }
  });

  it('a declared ratio overrides the profile, and a declared edge is added', () => {
    const g = graphFromManifests(manifests(), {
      declared: [
        { from: 'frontend', to: 'cartservice', callsPerRequest: 2, where: 'scenario.yaml: dependencies[0]' },
        { from: 'adservice', to: 'redis-cart', callsPerRequest: 0.5, bytesPerCall: 100, where: 'scenario.yaml: dependencies[1]' },
      ],
    });
    const d = propagateRates(g.graph, { frontend: 100 });
    // cart: 200 + 2·(100/28); redis: cart·30/27 + 0.5·adservice.
    expect(d.get('cartservice')).toBeCloseTo(200 + 200 / 28, 9);
    expect(d.get('redis-cart')).toBeCloseTo(((200 + 200 / 28) * 30) / 27 + 0.5 * (1600 / 28), 9);
    expect(g.edges.filter((e) => e.source === 'declared').map((e) => `${e.from} -> ${e.to}`)).toEqual(['frontend -> cartservice', 'adservice -> redis-cart']);
  });

  it('a declared edge to an unknown service is named with where it was declared', () => {
    const e = thrown(() => graphFromManifests(manifests(), { declared: [{ from: 'frontend', to: 'cartz', callsPerRequest: 1, where: 'scenario.yaml: graph.dependencies[0]' }] }));
    expect(e.message).toMatch(/^scenario\.yaml: graph\.dependencies\[0\]: edge frontend → cartz names unknown service "cartz" \(known services: frontend, adservice, /);
  });

  it('the unit profile puts 1 call per request on every edge and says so', () => {
    const g = graphFromManifests(manifests(), { ratios: 'unit' });
    expect(g.profile).toBe('unit');
    expect(g.edges.every((e) => e.callsPerRequest === 1 && e.source === 'unit')).toBe(true);
    // frontend 100 → productcatalog: frontend 100 + recommendation 100 + checkout 100.
    expect(propagateRates(g.graph, { frontend: 100 }).get('productcatalogservice')).toBe(300);
  });
});
