/**
 * The HTML report in a real browser (Debian's Chromium driven by playwright-core):
 * the page loads offline, draws one chart per workload plus the cost chart, and
 * its table carries the replay's numbers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { loadScenarioFile } from '../src/config/load.ts';
import type { Scenario } from '../src/core/model.ts';
import { renderReport } from '../src/sim/report.ts';
import { runScenario } from '../src/sim/run.ts';
import { tempDir } from './helpers.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('HTML report in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('renders the metrics table, the pools of the predictive run and a chart per workload plus cost and nodes, with no network and no errors', async () => {
    const demo = loadScenarioFile(resolve(import.meta.dirname, '../examples/demo.yaml'));
    // One day of the demo, with the general pool failing from 06:00 to 09:00 of it and a candidate pool too dear to create.
    const evalStart = demo.startSeconds + demo.simulation.warmupSeconds;
    const scenario: Scenario = {
      ...demo,
      simulation: { ...demo.simulation, durationSeconds: 86_400 },
      pools: [...demo.pools, { ...demo.pools[1], name: 'burst', minNodes: 0, candidate: true, creationCost: 10 }],
      poolLifecycle: { maxCreationCost: 5, dismantleAfterSeconds: 3600, idleReclaimSeconds: 600 },
      incidents: [{ pool: 'general', startSeconds: evalStart + 6 * 3600, endSeconds: evalStart + 9 * 3600, description: 'rack power' }],
    };
    const result = await runScenario(scenario, { policies: ['reactive', 'predictive', 'oracle'] });
    expect(result.startSeconds).toBe(evalStart);
    const file = join(tempDir('report'), 'report.html');
    writeFileSync(file, renderReport(result));

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
    await page.waitForFunction('document.body.dataset.chartsRendered !== undefined');

    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    expect(await page.locator('body').getAttribute('data-charts-rendered')).toBe(String(scenario.workloads.length + 2));
    expect(await page.locator('canvas').count()).toBeGreaterThanOrEqual(scenario.workloads.length + 2);
    // The nodes chart has a series per pool the predictive run used.
    const predictive = result.policies.find((p) => p.metrics.name === 'predictive')!;
    const used = Object.entries(predictive.timeline.nodes).filter(([, v]) => v.some((x) => x > 0)).map(([pool]) => pool);
    expect(used).toContain('general');
    expect(await page.locator('#nodes').textContent()).toContain('Nodes per pool (predictive policy)');
    expect(await page.locator('#nodes .u-legend .u-series').count()).toBe(used.length + 1); // the time axis has a legend entry too
    // The pools section: the failing pool excluded at 06:00 and restored at 09:00, and the barred candidate.
    const changes = await page.locator('#pool-changes tbody tr[data-pool="general"]').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    const day = new Date(evalStart * 1000).toISOString().slice(0, 10);
    expect(changes.find((c) => c[2] === 'exclude')?.slice(0, 2)).toEqual([`${day} 06:00`, 'general']);
    expect(changes.find((c) => c[2] === 'exclude')?.[4]).toContain('rack power');
    expect(changes.find((c) => c[2] === 'restore')?.[0]).toBe(`${day} 09:00`);
    expect(await page.locator('#pool-notes').textContent()).toContain('candidate burst not created: creation cost 10');
    const rows = await page.locator('#metrics tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-policy')));
    expect(rows).toEqual(['reactive', 'predictive', 'oracle']);
    const predictiveCost = await page.locator('#metrics tr[data-policy="predictive"] td').first().textContent();
    const cost = result.policies.find((p) => p.metrics.name === 'predictive')!.metrics.cost;
    expect(predictiveCost).toBe(`$${cost.toFixed(2)}`);
    await page.close();
  });
});
