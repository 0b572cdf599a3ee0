/**
 * `headroom graph` in-process: the real Online Boutique manifests at 100
 * front-door requests/s (text and JSON), a scenario, and bad input.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from './main.ts';
import { captureOutput, tempDir } from '../../test/helpers.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const MANIFESTS = resolve(ROOT, 'data/online-boutique/kubernetes-manifests.yaml');

const output = captureOutput();

interface GraphJson {
  kind: string;
  ratios: string;
  entry: Record<string, number>;
  order: string[];
  services: { name: string; demandRps: number; requests?: { cpuMillicores: number; memoryMiB: number }; stateful?: string }[];
  edges: { from: string; to: string; callsPerRequest: number; callsPerSecond: number; source: string }[];
  unresolved: { envVar: string }[];
}

describe('headroom graph', () => {
  it('prints services, edges, order and demand for the real manifests', async () => {
    expect(await main(['graph', MANIFESTS, '--entry', 'frontend=100'])).toBe(0);
    expect(output.stdout).toContain('12 services, 16 edges; call ratios: online-boutique');
    expect(output.stdout).toContain('entry: frontend = 100 req/s\n');
    expect(output.stdout).toMatch(/^currencyservice\s+6\s+100m\s+64Mi\s+200m\s+128Mi\s+325\.00$/m);
    expect(output.stdout).toMatch(/^redis-cart\s+8\s+70m\s+200Mi\s+125m\s+256Mi\s+107\.14\s+stateful cache: image "redis:alpine" is a cache \(redis\)$/m);
    expect(output.stdout).toMatch(/^checkoutservice\s+currencyservice\s+4\.0000\s+online-boutique\s+14\.29\s+-$/m);
    expect(output.stdout).toContain('topological order: loadgenerator → frontend → ');
    expect(output.stdout).toContain('frontend SHOPPING_ASSISTANT_SERVICE_ADDR="shoppingassistantservice:80": no Service named "shoppingassistantservice"');
  });

  it('--json - writes the same as JSON', async () => {
    expect(await main(['graph', MANIFESTS, '--entry', 'frontend=100', '--entry', 'loadgenerator=19', '--json', '-'])).toBe(0);
    const j = JSON.parse(output.stdout) as GraphJson;
    expect(j.kind).toBe('manifests');
    expect(j.entry).toEqual({ frontend: 100, loadgenerator: 19 });
    const d = Object.fromEntries(j.services.map((s) => [s.name, s.demandRps]));
    // 100 entering at the frontend plus 19 user actions × 28/19 frontend requests each.
    expect(d.frontend).toBeCloseTo(128, 9);
    expect(d.currencyservice).toBeCloseTo((128 * 91) / 28, 9);
    expect(j.services.find((s) => s.name === 'adservice')!.requests).toEqual({ cpuMillicores: 200, memoryMiB: 180 });
    expect(j.edges).toHaveLength(16);
    expect(j.edges.find((e) => e.from === 'cartservice')).toMatchObject({ to: 'redis-cart', source: 'online-boutique' });
    expect(j.unresolved.map((u) => u.envVar)).toEqual(['SHOPPING_ASSISTANT_SERVICE_ADDR']);
  });

  it('--json FILE writes the file; --ratios unit says where its ratios come from', async () => {
    const out = join(tempDir('graph-cli'), 'g.json');
    expect(await main(['graph', MANIFESTS, '--ratios', 'unit', '--json', out])).toBe(0);
    const j = JSON.parse(readFileSync(out, 'utf8')) as GraphJson;
    expect(j.ratios).toBe('unit');
    expect(j.entry).toEqual({ frontend: 1 }); // the exposed service by default
    expect(j.edges.every((e) => e.callsPerRequest === 1 && e.source === 'unit')).toBe(true);
    expect(output.stdout).toContain('unit (1 call per request on every imported edge: a placeholder, not a measurement)');
  });

  it('--no-redirects re-derives the ratios for a load generator that does not follow redirects', async () => {
    expect(await main(['graph', MANIFESTS, '--entry', 'frontend=23', '--no-redirects', '--json', '-'])).toBe(0);
    const d = Object.fromEntries((JSON.parse(output.stdout) as GraphJson).services.map((s) => [s.name, s.demandRps]));
    // Per 23 frontend requests (docs/dependency-graph.md): currency 52 + 4, catalog 111 + 3 + 17, Redis 18 + 6 + 1.
    expect(d.currencyservice).toBeCloseTo(56, 9);
    expect(d.productcatalogservice).toBeCloseTo(131, 9);
    expect(d['redis-cart']).toBeCloseTo(25, 9);
  });

  it('reads a scenario with a graph', async () => {
    expect(await main(['graph', resolve(ROOT, 'examples/online-boutique.yaml'), '--entry', 'frontend=28', '--json', '-'])).toBe(0);
    const j = JSON.parse(output.stdout) as GraphJson;
    expect(j.kind).toBe('scenario');
    expect(Object.fromEntries(j.services.map((s) => [s.name, s.demandRps])).productcatalogservice).toBeCloseTo(160, 9);
    expect(j.edges.every((e) => e.source === 'scenario')).toBe(true);
  });

  it('bad input exits 2 with one error line', async () => {
    expect(await main(['graph', MANIFESTS, '--entry', 'frontend'])).toBe(2);
    expect(output.stderr).toBe('headroom: error: --entry: "frontend" is not SERVICE=REQUESTS_PER_SECOND (e.g. frontend=100)\n');
    output.stderr = '';
    expect(await main(['graph', MANIFESTS, '--ratios', 'measured'])).toBe(2);
    expect(output.stderr).toBe('headroom: error: --ratios: "measured" is not a ratio profile (auto, online-boutique or unit)\n');
    output.stderr = '';
    expect(await main(['graph', '/nonexistent.yaml'])).toBe(2);
    expect(output.stderr).toBe('headroom: error: /nonexistent.yaml: file not found\n');
  });
});
