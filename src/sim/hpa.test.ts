import { describe, expect, it } from 'vitest';
import { HPA_DEFAULTS, INITIAL_HPA_STATE, hpaConfig, hpaStep, proposeReplicas, type HpaConfig, type HpaState } from './hpa.ts';

const SYNC = 15;

/**
 * Drives the controller every 15 s with all pods ready at once. `loads[i]` is
 * the total usage in units of one pod's request (4 = four pods' worth), so the
 * ready pods' average utilization is load / replicas.
 */
function run(config: HpaConfig, startReplicas: number, loads: readonly number[]): number[] {
  let state: HpaState = INITIAL_HPA_STATE;
  let current = startReplicas;
  const out: number[] = [];
  loads.forEach((load, i) => {
    const r = hpaStep(state, { timeSeconds: i * SYNC, currentReplicas: current, readyReplicas: current, averageUtilization: load / current }, config);
    state = r.state;
    current = r.desiredReplicas;
    out.push(current);
  });
  return out;
}

describe('proposeReplicas (the metric proposal)', () => {
  const config = hpaConfig({ maxReplicas: 100 });

  it.each([
    // docs: current 200m of a 1-CPU request (20 %), target 100m (10 %) -> double
    { name: 'docs: 200m vs 100m doubles', current: 2, util: 0.2, target: 0.1, want: 4 },
    // docs: current 50m, target 100m -> halve
    { name: 'docs: 50m vs 100m halves', current: 4, util: 0.05, target: 0.1, want: 2 },
    { name: 'ratio 1.05 is within tolerance', current: 10, util: 0.84, target: 0.8, want: 10 },
    { name: 'ratio 0.95 is within tolerance', current: 10, util: 0.76, target: 0.8, want: 10 },
    { name: 'ratio 1.0875 is within tolerance', current: 10, util: 0.87, target: 0.8, want: 10 },
    // 89/80 = 1.1125 -> ceil(11.125) = 12
    { name: 'ratio 1.1125 scales', current: 10, util: 0.89, target: 0.8, want: 12 },
    // 40.99 % truncates to 40 %: 40/20 = 2 -> 6 (untruncated 2.0495 × 3 would give 7)
    { name: 'utilization truncated to a whole percent', current: 3, util: 0.4099, target: 0.2, want: 6 },
    // 0.29 × 100 is 28.999… in binary; the controller's integer maths gives 29: 29/10 × 10 = 29
    { name: 'percent not lost to binary fractions', current: 10, util: 0.29, target: 0.1, want: 29 },
  ])('$name', ({ current, util, target, want }) => {
    const cfg = { ...config, targetUtilization: target };
    expect(proposeReplicas({ timeSeconds: 0, currentReplicas: current, readyReplicas: current, averageUtilization: util }, cfg)).toBe(want);
  });

  it.each([
    // ratio 90/50 = 1.8; with 4 unready pods at 0 %: floor(90 × 6/10) = 54 % -> 1.08, within tolerance -> no scale
    // (ignoring the unready pods would give ceil(1.8 × 6) = 11)
    { name: 'unready pods at 0 % bring the ratio within tolerance', current: 10, ready: 6, util: 0.9, want: 10 },
    // ratio 2; recomputed floor(100 × 4/10) = 40 % -> 0.8 reverses direction -> no scale
    { name: 'recomputed ratio reversing direction blocks the scale-up', current: 10, ready: 4, util: 1.0, want: 10 },
    // ratio 2; recomputed 80 % -> 1.6 -> ceil(1.6 × 10) = 16
    { name: 'recomputed ratio over all pods', current: 10, ready: 8, util: 1.0, want: 16 },
    // scaling down: unready pods are just set aside: 20/50 = 0.4 -> ceil(0.4 × 5) = 2
    { name: 'scale-down ignores unready pods', current: 10, ready: 5, util: 0.2, want: 2 },
  ])('$name', ({ current, ready, util, want }) => {
    const cfg = { ...config, targetUtilization: 0.5 };
    expect(proposeReplicas({ timeSeconds: 0, currentReplicas: current, readyReplicas: ready, averageUtilization: util }, cfg)).toBe(want);
  });

  it('has no proposal without ready pods', () => {
    expect(proposeReplicas({ timeSeconds: 0, currentReplicas: 3, readyReplicas: 0, averageUtilization: 0 }, config)).toBeNull();
  });
});

describe('hpaStep', () => {
  it('doubles on the docs example in one sync (within the scale-up limit)', () => {
    const cfg = hpaConfig({ maxReplicas: 100, targetUtilization: 0.1 });
    const r = hpaStep(INITIAL_HPA_STATE, { timeSeconds: 0, currentReplicas: 2, readyReplicas: 2, averageUtilization: 0.2 }, cfg);
    expect(r.desiredReplicas).toBe(4);
    expect(r.reason).toBe('DesiredWithinRange');
    expect(r.state.scaleUpEvents).toEqual([{ timeSeconds: 0, replicas: 2 }]);
  });

  it('does not change within tolerance (ratio 1.05)', () => {
    const cfg = hpaConfig({ maxReplicas: 100 });
    const r = hpaStep(INITIAL_HPA_STATE, { timeSeconds: 0, currentReplicas: 10, readyReplicas: 10, averageUtilization: 0.84 }, cfg);
    expect(r.desiredReplicas).toBe(10);
    expect(r.state.scaleUpEvents).toEqual([]);
    expect(r.state.scaleDownEvents).toEqual([]);
  });

  describe('scale-up rate limit (Max of Pods 4 and Percent 100 per 15 s)', () => {
    const cfg = hpaConfig({ maxReplicas: 1000, targetUtilization: 0.1 });

    it.each([
      { from: 1, want: 5, note: 'max(1 + 4, 2 × 1) = 5' },
      { from: 2, want: 6, note: 'max(2 + 4, 2 × 2) = 6' },
      { from: 10, want: 20, note: 'max(10 + 4, 2 × 10) = 20' },
    ])('from $from the most in one period is $want ($note)', ({ from, want }) => {
      // 100 % utilization against a 10 % target: proposal 10 × from, far above the limit
      const r = hpaStep(INITIAL_HPA_STATE, { timeSeconds: 0, currentReplicas: from, readyReplicas: from, averageUtilization: 1 }, cfg);
      expect(r.desiredReplicas).toBe(want);
      expect(r.reason).toBe('ScaleUpLimit');
    });

    it('selectPolicy Min takes the smaller allowance: min(2 + 4, 2 × 2) = 4', () => {
      const r = hpaStep(INITIAL_HPA_STATE, { timeSeconds: 0, currentReplicas: 2, readyReplicas: 2, averageUtilization: 1 }, { ...cfg, scaleUpSelectPolicy: 'Min' });
      expect(r.desiredReplicas).toBe(4);
    });

    it('counts from the replicas at the start of the period', () => {
      const s1 = hpaStep(INITIAL_HPA_STATE, { timeSeconds: 0, currentReplicas: 1, readyReplicas: 1, averageUtilization: 1 }, cfg);
      expect(s1.desiredReplicas).toBe(5);
      // 5 s later the period began at 1 replica: still at most 5, so no change
      const s2 = hpaStep(s1.state, { timeSeconds: 5, currentReplicas: 5, readyReplicas: 5, averageUtilization: 1 }, cfg);
      expect(s2.desiredReplicas).toBe(5);
      // 15 s after the first scale its event has left the period: max(5 + 4, 2 × 5) = 10
      const s3 = hpaStep(s2.state, { timeSeconds: 15, currentReplicas: 5, readyReplicas: 5, averageUtilization: 1 }, cfg);
      expect(s3.desiredReplicas).toBe(10);
    });

    it('grows 1 -> 5 -> 10 -> 20 -> 40 over successive syncs', () => {
      expect(run(cfg, 1, [100, 100, 100, 100])).toEqual([5, 10, 20, 40]);
    });
  });

  describe('scale-down', () => {
    it('default policy (100 % per 15 s) allows any drop once stabilization allows it', () => {
      const cfg = hpaConfig({ maxReplicas: 100, scaleDownStabilizationSeconds: 0 });
      // load 0.4 pod-requests on 10 pods: 4 % vs 80 % -> ceil(0.05 × 10) = 1
      const r = hpaStep(INITIAL_HPA_STATE, { timeSeconds: 0, currentReplicas: 10, readyReplicas: 10, averageUtilization: 0.04 }, cfg);
      expect(r.desiredReplicas).toBe(1);
      expect(r.state.scaleDownEvents).toEqual([{ timeSeconds: 0, replicas: 9 }]);
    });

    it('a Pods policy of 1 per 60 s removes one pod per minute', () => {
      const cfg = hpaConfig({
        maxReplicas: 100,
        scaleDownStabilizationSeconds: 0,
        scaleDownPolicies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
      });
      // 0.4 pod-requests: proposal 1 every time
      expect(run(cfg, 10, Array(9).fill(0.4))).toEqual([9, 9, 9, 9, 8, 8, 8, 8, 7]);
    });

    it('Percent truncates: 50 % of 5 allows down to trunc(2.5) = 2', () => {
      const cfg = hpaConfig({ maxReplicas: 100, scaleDownStabilizationSeconds: 0, scaleDownPolicies: [{ type: 'Percent', value: 50, periodSeconds: 15 }] });
      const r = hpaStep(INITIAL_HPA_STATE, { timeSeconds: 0, currentReplicas: 5, readyReplicas: 5, averageUtilization: 0.01 }, cfg);
      expect(r.desiredReplicas).toBe(2);
      expect(r.reason).toBe('ScaleDownLimit');
    });
  });

  describe('scale-down stabilization (300 s, highest proposal in the window)', () => {
    const cfg = hpaConfig({ maxReplicas: 100 });

    it('delays a drop until 300 s after the last higher recommendation', () => {
      // t=0: load 8 on 10 pods = 80 % -> proposal 10; from t=15: load 4 -> 40 % -> proposal 5
      const loads = [8, ...Array(21).fill(4)];
      const out = run(cfg, 10, loads);
      // syncs at t = 0..285 keep 10 (the t=0 proposal is in the window); at t = 300 it has left
      expect(out.slice(0, 20)).toEqual(Array(20).fill(10));
      expect(out[20]).toBe(5); // t = 300
      expect(out[21]).toBe(5);
    });

    it('a higher proposal inside the window restarts the wait for the part above it', () => {
      // proposals: t=0 -> 10, t=15..135 -> 5, t=150 -> 8 (64 %), then 5
      const loads = [8, ...Array(9).fill(4), 6.4, ...Array(21).fill(4)];
      const out = run(cfg, 10, loads);
      const at = (t: number) => out[t / SYNC];
      expect(at(285)).toBe(10);
      expect(at(300)).toBe(8); // the t=0 proposal left; t=150's 8 is the highest left
      expect(at(435)).toBe(8);
      expect(at(450)).toBe(5); // 300 s after t = 150
    });

    it('remembers the replicas found at the first sync (no drop right after start)', () => {
      const r = hpaStep(INITIAL_HPA_STATE, { timeSeconds: 0, currentReplicas: 10, readyReplicas: 10, averageUtilization: 0.1 }, cfg);
      expect(r.desiredReplicas).toBe(10);
    });

    it('keeps only the recommendations a window can still see', () => {
      const out = run(cfg, 4, Array(100).fill(3.2));
      expect(out.every((r) => r === 4)).toBe(true);
      let state: HpaState = INITIAL_HPA_STATE;
      for (let i = 0; i < 100; i++) {
        state = hpaStep(state, { timeSeconds: i * SYNC, currentReplicas: 4, readyReplicas: 4, averageUtilization: 0.8 }, cfg).state;
      }
      // proposals at now-285 .. now: 20
      expect(state.recommendations).toHaveLength(20);
      expect(state.recommendations[0].timeSeconds).toBe(99 * SYNC - 285);
    });

    it('scale-up stabilization takes the lowest proposal in its window', () => {
      const up = hpaConfig({ maxReplicas: 100, scaleUpStabilizationSeconds: 60 });
      // t=0: 80 % on 4 -> 4; t=15..: load 8 -> proposal 10, but 4 is in the up-window until t = 60;
      // then the rate limit: max(4 + 4, 2 × 4) = 8 at t = 60, 10 at t = 75
      expect(run(up, 4, [3.2, 8, 8, 8, 8, 8])).toEqual([4, 4, 4, 4, 8, 10]);
    });
  });

  describe('min/max replicas', () => {
    const cfg = hpaConfig({ minReplicas: 3, maxReplicas: 10, scaleDownStabilizationSeconds: 0 });

    it('clamps a proposal above maxReplicas', () => {
      // 8 pods at 400 % vs 80 %: proposal 40; rate limit 16; max 10
      const r = hpaStep(INITIAL_HPA_STATE, { timeSeconds: 0, currentReplicas: 8, readyReplicas: 8, averageUtilization: 4 }, cfg);
      expect(r).toMatchObject({ desiredReplicas: 10, reason: 'TooManyReplicas' });
    });

    it('clamps a proposal below minReplicas', () => {
      const r = hpaStep(INITIAL_HPA_STATE, { timeSeconds: 0, currentReplicas: 5, readyReplicas: 5, averageUtilization: 0.01 }, cfg);
      expect(r).toMatchObject({ desiredReplicas: 3, reason: 'TooFewReplicas' });
    });

    it('brings replicas outside the bounds back at once', () => {
      expect(hpaStep(INITIAL_HPA_STATE, { timeSeconds: 0, currentReplicas: 14, readyReplicas: 14, averageUtilization: 0.8 }, cfg)).toMatchObject({
        desiredReplicas: 10,
        reason: 'AboveMaxReplicas',
      });
      expect(hpaStep(INITIAL_HPA_STATE, { timeSeconds: 0, currentReplicas: 1, readyReplicas: 1, averageUtilization: 5 }, cfg)).toMatchObject({
        desiredReplicas: 3,
        reason: 'BelowMinReplicas',
      });
    });

    it('leaves a target scaled to zero alone (autoscaling disabled)', () => {
      expect(hpaStep(INITIAL_HPA_STATE, { timeSeconds: 0, currentReplicas: 0, readyReplicas: 0, averageUtilization: 0 }, cfg)).toMatchObject({
        desiredReplicas: 0,
        reason: 'ScalingDisabled',
      });
    });
  });

  it('does not scale without ready pods', () => {
    const cfg = hpaConfig({ maxReplicas: 10 });
    expect(hpaStep(INITIAL_HPA_STATE, { timeSeconds: 0, currentReplicas: 3, readyReplicas: 0, averageUtilization: 0 }, cfg)).toMatchObject({
      desiredReplicas: 3,
      reason: 'NoReadyPods',
    });
  });

  it('does not mutate its input state and is deterministic', () => {
    const cfg = hpaConfig({ maxReplicas: 50 });
    const frozen: HpaState = Object.freeze({
      recommendations: Object.freeze([Object.freeze({ timeSeconds: 0, replicas: 4 })]),
      scaleUpEvents: Object.freeze([]),
      scaleDownEvents: Object.freeze([]),
    });
    const obs = { timeSeconds: 15, currentReplicas: 4, readyReplicas: 4, averageUtilization: 1.6 };
    const a = hpaStep(frozen, obs, cfg);
    const b = hpaStep(frozen, obs, cfg);
    expect(a).toEqual(b);
    expect(a.desiredReplicas).toBe(8); // 160/80 × 4
    expect(frozen.recommendations).toHaveLength(1);
  });
});

describe('hpaConfig', () => {
  it('fills Kubernetes defaults', () => {
    const c = hpaConfig({ maxReplicas: 7 });
    expect(c).toMatchObject({ syncPeriodSeconds: 15, minReplicas: 1, maxReplicas: 7, tolerance: 0.1, scaleDownStabilizationSeconds: 300, scaleUpStabilizationSeconds: 0 });
    expect(c.scaleUpPolicies).toEqual(HPA_DEFAULTS.scaleUpPolicies);
  });

  it('rejects impossible bounds with a message naming the field', () => {
    expect(() => hpaConfig({ minReplicas: 5, maxReplicas: 3 })).toThrow(/maxReplicas/);
    expect(() => hpaConfig({ maxReplicas: 3, targetUtilization: 0 })).toThrow(/targetUtilization/);
  });
});
