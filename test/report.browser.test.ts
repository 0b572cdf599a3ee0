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

  it('renders the metrics table and a chart per workload plus cost, with no network and no errors', async () => {
    const demo = loadScenarioFile(resolve(import.meta.dirname, '../examples/demo.yaml'));
    const scenario = { ...demo, simulation: { ...demo.simulation, durationSeconds: 86_400 } };
    const result = await runScenario(scenario, { policies: ['reactive', 'predictive', 'oracle'] });
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
    expect(await page.locator('body').getAttribute('data-charts-rendered')).toBe(String(scenario.workloads.length + 1));
    expect(await page.locator('canvas').count()).toBeGreaterThanOrEqual(scenario.workloads.length + 1);
    const rows = await page.locator('#metrics tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-policy')));
    expect(rows).toEqual(['reactive', 'predictive', 'oracle']);
    const predictiveCost = await page.locator('#metrics tr[data-policy="predictive"] td').first().textContent();
    const cost = result.policies.find((p) => p.metrics.name === 'predictive')!.metrics.cost;
    expect(predictiveCost).toBe(`$${cost.toFixed(2)}`);
    await page.close();
  });
});
