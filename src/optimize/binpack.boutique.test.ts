/**
 * Packing a real application: the CPU and memory requests of Google's Online
 * Boutique (data/online-boutique/kubernetes-manifests.yaml, unchanged) onto nodes.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { Resources } from '../core/model.ts';
import { type ItemType, fragmentation, lowerBounds, packBest, packVectors } from './binpack.ts';

interface Container {
  readonly resources?: { readonly requests?: { readonly cpu?: string; readonly memory?: string } };
}
interface Manifest {
  readonly kind?: string;
  readonly metadata?: { readonly name?: string };
  readonly spec?: { readonly template?: { readonly spec?: { readonly containers?: Container[]; readonly initContainers?: Container[] } } };
}

/** Kubernetes quantities: "100m" / "1" CPU → millicores; "64Mi" / "1Gi" → MiB. */
const millicores = (q = '0') => (q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000);
const mebibytes = (q = '0') => (q.endsWith('Gi') ? Number(q.slice(0, -2)) * 1024 : q.endsWith('Mi') ? Number(q.slice(0, -2)) : Number(q) / 2 ** 20);

/** A pod's request as the scheduler sees it: the sum over containers, or the largest init container if that is more. */
function podRequests(manifest: Manifest): Resources {
  const spec = manifest.spec?.template?.spec;
  const sum = (cs: Container[] = []) => cs.reduce((s, c) => ({ cpuMillicores: s.cpuMillicores + millicores(c.resources?.requests?.cpu), memoryMiB: s.memoryMiB + mebibytes(c.resources?.requests?.memory) }), { cpuMillicores: 0, memoryMiB: 0 });
  const main = sum(spec?.containers);
  const init = (spec?.initContainers ?? []).map((c) => sum([c]));
  return {
    cpuMillicores: Math.max(main.cpuMillicores, ...init.map((r) => r.cpuMillicores)),
    memoryMiB: Math.max(main.memoryMiB, ...init.map((r) => r.memoryMiB)),
  };
}

const manifests = parseAllDocuments(readFileSync(resolve(import.meta.dirname, '../../data/online-boutique/kubernetes-manifests.yaml'), 'utf8')).map((d) => d.toJS() as Manifest | null);
const pods = manifests.filter((m): m is Manifest => m?.kind === 'Deployment').map((m) => ({ name: m.metadata?.name as string, size: podRequests(m) }));
const replicas = (count: number): ItemType[] => pods.map((p) => ({ ...p, count }));

describe('Online Boutique requests onto nodes', () => {
  it('reads the 12 deployments: 1570m CPU and 1368 MiB requested in all', () => {
    expect(pods).toHaveLength(12);
    expect(pods.reduce((s, p) => s + p.size.cpuMillicores, 0)).toBe(1570);
    expect(pods.reduce((s, p) => s + p.size.memoryMiB, 0)).toBe(1368);
    expect(pods.find((p) => p.name === 'loadgenerator')?.size).toEqual({ cpuMillicores: 300, memoryMiB: 256 });
  });

  it('one replica each on 1-core, 2 GiB nodes: 2 nodes (optimal by the continuous bound ⌈1570/1000⌉), memory stranded on the CPU-full node', () => {
    const node = { cpuMillicores: 1000, memoryMiB: 2048 };
    const packing = packVectors(replicas(1), node);
    expect(packing.nodes).toHaveLength(2);
    expect(lowerBounds(replicas(1), node).bound).toBe(2);
    // FFD by normalised sum: loadgenerator, adservice, cartservice, recommendationservice, redis-cart, checkoutservice
    // fill node 1 to 970m CPU and 984 MiB; 30m free is below the smallest request (70m), so its 1064 MiB are stranded.
    expect(Object.keys(packing.nodes[0].counts).sort()).toEqual(['adservice', 'cartservice', 'checkoutservice', 'loadgenerator', 'recommendationservice', 'redis-cart']);
    const { summary } = fragmentation(packing, node, pods.map((p) => p.size));
    expect(summary).toMatchObject({ free: { cpuMillicores: 430, memoryMiB: 2728 }, unusable: { cpuMillicores: 30, memoryMiB: 1064 }, stranded: { cpuMillicores: 0, memoryMiB: 1064 }, fullNodes: 1 });
  });

  it('ten replicas each on 4-core, 4 GiB nodes: FFD by sum needs 5, the best heuristic 4, which the bound proves optimal', () => {
    const node = { cpuMillicores: 4000, memoryMiB: 4096 };
    expect(packVectors(replicas(10), node).nodes).toHaveLength(5);
    expect(packBest(replicas(10), node).nodes).toHaveLength(4);
    // ⌈15700/4000⌉ = 4 by CPU.
    expect(lowerBounds(replicas(10), node)).toMatchObject({ continuous: 4, bound: 4 });
  });
});
