import { describe, expect, it } from 'vitest';
import { InfeasibleError } from '../core/errors.ts';
import { lcg } from '../forecast/testData.ts';
import { hourInWindow } from './contention.ts';
import { type HorizonInput, type HorizonWorkload, checkPlan, perNode } from './horizon.ts';
import { hpool, hwork } from './testFixtures.ts';
import { optimizeHorizon } from './optimizeHorizon.ts';

const GiB = 1024;

describe('contention: hand-solved', () => {
  it('a guaranteed minimum survives a higher priority; the rest goes to the higher one', async () => {
    // 2 nodes × 4 CPU = 8 CPU; pay wants 8, batch wants 4 with 3 guaranteed.
    const r = await optimizeHorizon({
      steps: 1,
      stepHours: 1,
      workloads: [hwork('pay', 1000, 1 * GiB, [8], { priority: 100 }), hwork('batch', 1000, 1 * GiB, [4], { priority: 1, minInstances: 3 })],
      pools: [hpool('small', 4, 16, 0.2, { maxNodes: 2 })],
    });
    expect(r.shortfall).toEqual({ pay: [3], batch: [1] });
  });

  it('a time-windowed rule puts mobile first during 17:00–21:00 only', async () => {
    const r = await optimizeHorizon({
      steps: 3,
      stepHours: 2,
      startHourOfDay: 15, // steps start 15:00, 17:00, 19:00
      workloads: [hwork('mobile', 1000, 1 * GiB, [3, 3, 3], { priority: 1 }), hwork('web', 1000, 1 * GiB, [3, 3, 3], { priority: 2 })],
      pools: [hpool('small', 4, 16, 0.2, { maxNodes: 1 })],
      rules: [{ name: 'mobile first at peak', workloads: ['mobile'], priority: 3, hours: { fromHour: 17, toHour: 21 } }],
    });
    expect(r.shortfall).toEqual({ mobile: [2, 0, 0], web: [0, 2, 2] });
  });

  it('an emergency flag puts telephone first only while the flag is active', async () => {
    const base: HorizonInput = {
      steps: 1,
      stepHours: 1,
      workloads: [hwork('telephone', 2000, 1 * GiB, [2], { priority: 1 }), hwork('video', 2000, 1 * GiB, [2], { priority: 5 })],
      pools: [hpool('small', 4, 16, 0.2, { maxNodes: 1 })],
      rules: [{ name: 'telephone first in an emergency', workloads: ['telephone'], priority: 10, flag: 'emergency' }],
    };
    expect((await optimizeHorizon(base)).shortfall).toEqual({ telephone: [2], video: [0] });
    expect((await optimizeHorizon({ ...base, activeFlags: ['emergency'] })).shortfall).toEqual({ telephone: [0], video: [2] });
  });

  it('budget contention: $0.20 per step buys one node; the higher priority gets it', async () => {
    const r = await optimizeHorizon({
      steps: 2,
      stepHours: 1,
      workloads: [hwork('a', 1000, 1 * GiB, [4, 4], { priority: 2 }), hwork('b', 1000, 1 * GiB, [4, 4], { priority: 1 })],
      pools: [hpool('small', 4, 16, 0.2)],
      budgetPerStep: [0.2, 0.4],
    });
    expect(r.shortfall).toEqual({ a: [0, 0], b: [4, 0] });
  });

  it('windows wrap past midnight', () => {
    expect([22, 23, 0, 1, 2, 12].map((h) => hourInWindow(h, 22, 2))).toEqual([true, true, true, true, false, false]);
  });
});

/** Random single-pool, single-step instances where capacity binds. */
function randomContention(seed: number): HorizonInput {
  const rand = lcg(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const workloads: HorizonWorkload[] = Array.from({ length: 2 + Math.floor(rand() * 3) }, (_, i) =>
    hwork(`w${i}`, pick([500, 1000, 2000]), pick([512, 1024, 2048, 4096]), [1 + Math.floor(rand() * 8)], { priority: pick([0, 1, 2]), minInstances: rand() < 0.3 ? 1 : 0 }),
  );
  return { steps: 1, stepHours: 1, workloads, pools: [hpool('p', 4, 8, 0.2, { maxNodes: 2 + Math.floor(rand() * 2) })] };
}

describe('contention: properties over random instances', () => {
  it('a higher priority is never short while evicting lower instances above their guarantee would make room', async () => {
    let checked = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const input = randomContention(seed);
      let r;
      try {
        r = await optimizeHorizon(input);
      } catch (e) {
        if (e instanceof InfeasibleError) continue;
        throw e;
      }
      const ctx = r.context;
      expect(checkPlan(ctx, r.plan)).toEqual([]);
      const pool = ctx.pools[0];
      const n = r.plan.nodes[0][0];
      const used = [0, 0];
      ctx.workloads.forEach((w, wi) => {
        const x = r.plan.placement[0][wi].get(0) ?? 0;
        used[0] += x * w.perInstance.cpuMillicores;
        used[1] += x * w.perInstance.memoryMiB;
        expect(x).toBeGreaterThanOrEqual(ctx.guaranteed[0][wi]);
      });
      ctx.workloads.forEach((high, hi) => {
        if (r.shortfall[high.name][0] === 0) return;
        const x = r.plan.placement[0][hi].get(0) ?? 0;
        const free = [pool.maxNodes * pool.nodeType.capacity.cpuMillicores - used[0], pool.maxNodes * pool.nodeType.capacity.memoryMiB - used[1]];
        ctx.workloads.forEach((low, li) => {
          if (ctx.priority[0][li] >= ctx.priority[0][hi]) return;
          const spare = (r.plan.placement[0][li].get(0) ?? 0) - ctx.guaranteed[0][li];
          free[0] += spare * low.perInstance.cpuMillicores;
          free[1] += spare * low.perInstance.memoryMiB;
        });
        const room = free[0] >= high.perInstance.cpuMillicores && free[1] >= high.perInstance.memoryMiB && x + 1 <= perNode(pool, high.perInstance) * pool.maxNodes;
        expect(room, `seed ${seed}: '${high.name}' short while lower priorities hold evictable capacity`).toBe(false);
        checked++;
      });
      expect(n).toBeLessThanOrEqual(pool.maxNodes);
    }
    expect(checked).toBeGreaterThan(5);
  });
});
