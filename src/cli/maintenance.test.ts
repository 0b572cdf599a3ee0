/**
 * `headroom simulate examples/maintenance.yaml` and `headroom whatif` in-process,
 * on the bundled scenario (real Online Boutique manifests, real NAB trace):
 * the migration completes with no instance in the maintained pool during its
 * window and capacity at or above demand at every step; with
 * `--inject-failure phase=2` it rolls back, the rollback undoes the applied
 * actions in reverse order, and finalPlacement equals initialPlacement.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from './main.ts';
import { captureOutput, tempDir } from '../../test/helpers.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const SCENARIO = resolve(ROOT, 'examples/maintenance.yaml');

const output = captureOutput();

interface Step {
  time: string;
  service: string;
  demandRps: number;
  capacityRps: number;
  location: Record<string, number>;
}
interface LogEntry {
  id: string;
  phase: number;
  kind: 'apply' | 'rollback';
  service: string | null;
  from: string | null;
  to: string | null;
  instances: number;
  pool?: string;
  fromNodes?: number;
  toNodes?: number;
}

async function simulate(...extra: string[]): Promise<any> {
  const json = join(tempDir('maint'), 'out.json');
  const code = await main(['simulate', SCENARIO, '--policies', 'static', '--quiet', '--json', json, ...extra]);
  expect(code, output.stderr).toBe(0);
  return JSON.parse(readFileSync(json, 'utf8'));
}

describe('headroom simulate examples/maintenance.yaml', () => {
  it('completes the move before the chosen window: nothing in a-general during it, capacity ≥ demand at every step', async () => {
    const out = await simulate();
    // Existing keys stay.
    expect(out.policies.map((p: { name: string }) => p.name)).toEqual(['static']);
    const chosen = out.whatif.chosen;
    expect(chosen).toMatchObject({ rank: 1, failingSlos: [] });
    expect(out.whatif.candidates.length).toBe(165);
    for (const c of out.whatif.candidates) expect(Object.keys(c)).toEqual(expect.arrayContaining(['start', 'cost', 'sloAttainment', 'failingSlos']));
    // Some windows (the busy ones) do not fit zone b's quota: the what-if says which SLOs fail there.
    expect(out.whatif.candidates.some((c: { failingSlos: string[] }) => c.failingSlos.includes('productcatalogservice'))).toBe(true);

    expect(out.migration.status).toBe('completed');
    expect(out.migration.phases.length).toBeGreaterThan(3);
    for (const p of out.migration.phases) {
      expect(p.actions.length).toBeGreaterThan(0);
      expect(p.rollback.map((a: { id: string }) => a.id)).toEqual([...p.actions].reverse().map((a: { id: string }) => `${a.id}/rollback`));
    }
    expect(out.migration.log.every((e: LogEntry) => e.kind === 'apply')).toBe(true);

    const services = Object.keys(out.initialPlacement);
    expect(services).toHaveLength(11);
    for (const s of services) expect(Object.keys(out.initialPlacement[s])).toEqual(['a-general']);
    // After the move (its last phase) everything runs in zone b; after the window it moves back.
    const moved = out.migration.phases.filter((p: { stage: string }) => p.stage === 'move');
    for (const s of services) expect(Object.keys(moved[moved.length - 1].placementAfter[s])).toEqual(['b-general']);
    expect(out.migration.returnStatus).toBe('completed');
    expect(out.finalPlacement).toEqual(out.initialPlacement);
    const back = out.migration.phases.filter((p: { stage: string }) => p.stage === 'return');
    expect(back.length).toBe(moved.length);
    expect(back[0].number).toBe(moved.length + 1);
    for (const p of [...moved, ...back]) for (const c of p.sloChecks) expect(c.holds, `phase ${p.number} ${c.service}`).toBe(true);
    // Every return action ran after the window.
    const returnIds = new Set(back.flatMap((p: { actions: { id: string }[] }) => p.actions.map((a) => a.id)));
    expect(out.migration.log.filter((e: LogEntry) => returnIds.has(e.id))).toHaveLength(returnIds.size);

    const start = Date.parse(chosen.start);
    const end = Date.parse(chosen.end);
    expect(end - start).toBe(4 * 3600 * 1000);
    const steps: Step[] = out.steps;
    const inWindow = steps.filter((s) => Date.parse(s.time) >= start && Date.parse(s.time) < end);
    expect(inWindow.length).toBe(11 * 48);
    for (const s of inWindow) expect(s.location['a-general'] ?? 0, `${s.service} at ${s.time}`).toBe(0);
    for (const s of steps) {
      expect(s.capacityRps, `${s.service} at ${s.time}`).toBeGreaterThanOrEqual(s.demandRps);
      expect(Object.keys(s)).toEqual(['time', 'service', 'demandRps', 'capacityRps', 'location']);
    }
    expect(output.stdout).toContain('migration: completed');
    expect(output.stdout).toContain('move back after the window: completed');
  }, 120_000);

  it('with --inject-failure phase=2 rolls back in reverse order and returns to the initial placement', async () => {
    const out = await simulate('--inject-failure', 'phase=2');
    expect(out.migration.status).toBe('rolledBack');
    expect(out.migration.failedPhase).toBe(2);
    expect(out.migration.postponed).toContain('postponed');
    const log: LogEntry[] = out.migration.log;
    const applied = log.filter((e) => e.kind === 'apply');
    const undone = log.filter((e) => e.kind === 'rollback');
    expect(applied.length).toBeGreaterThan(0);
    expect(applied.every((e) => e.phase <= 2)).toBe(true);
    expect(undone.length).toBe(applied.length);
    undone.forEach((u, i) => {
      const a = applied[applied.length - 1 - i];
      expect(u.id).toBe(`${a.id}/rollback`);
      expect([u.service, u.from, u.to, u.instances, u.pool, u.fromNodes, u.toNodes]).toEqual([a.service, a.to, a.from, a.instances, a.pool, a.toNodes, a.fromNodes]);
    });
    expect(out.finalPlacement).toEqual(out.initialPlacement);
    expect(out.migration.returnStatus).toBeUndefined();
    expect(output.stdout).toContain('migration: rolledBack');
  }, 120_000);

  it('refuses --inject-failure on a scenario without maintenance, and a malformed value', async () => {
    expect(await main(['simulate', resolve(ROOT, 'examples/online-boutique.yaml'), '--inject-failure', 'phase=2', '--quiet'])).toBe(2);
    expect(output.stderr).toContain('has no maintenance: section');
    expect(await main(['simulate', SCENARIO, '--inject-failure', 'two', '--quiet'])).toBe(2);
    expect(output.stderr).toContain('--inject-failure: expected phase=N');
  });

  it('refuses a phase the chosen plan does not have (26 phases to move, 26 to move back)', async () => {
    expect(await main(['simulate', SCENARIO, '--policies', 'static', '--inject-failure', 'phase=53', '--quiet'])).toBe(2);
    expect(output.stderr).toContain('--inject-failure: phase 53 is not in the chosen plan (phases 1..52)');
  });
});

describe('headroom whatif', () => {
  it('prints the ranked windows and the chosen plan; --json - gives the candidates', async () => {
    expect(await main(['whatif', SCENARIO])).toBe(0);
    expect(output.stdout).toMatch(/^What-if: maintenance of pool "a-general"/);
    expect(output.stdout).toContain('chosen:');
    expect(output.stdout).toMatch(/addCapacity .* add nodes to b-general/);
    expect(output.stdout).toMatch(/copy redis-cart to b-general \(200 MiB at 800 Mbit\/s: 2\.0 s\)/);
    output.stdout = '';
    expect(await main(['whatif', SCENARIO, '--json', '-'])).toBe(0);
    const json = JSON.parse(output.stdout);
    expect(json.whatif.chosen.start).toBe(json.whatif.candidates[0].start);
    expect(json.migration.phases[0].kind).toBe('addCapacity');
  }, 120_000);

  it('refuses a scenario without maintenance:', async () => {
    expect(await main(['whatif', resolve(ROOT, 'examples/online-boutique.yaml')])).toBe(2);
    expect(output.stderr).toContain('the scenario has no maintenance: section');
  });
});
