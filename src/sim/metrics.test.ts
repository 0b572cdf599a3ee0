import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.ts';
import { elasticityMetrics, summarizePolicy } from './metrics.ts';
import type { PolicyTimeline } from './types.ts';

/** Four half-hour steps, two workloads; every expected number below is worked out by hand. */
const timeline: PolicyTimeline = {
  timeSeconds: [0, 1800, 3600, 5400],
  capacityRps: { api: [200, 300, 300, 100], batch: [10, 5, 10, 20] },
  instances: { api: [2, 3, 3, 1], batch: [1 + 1e-12, 0.5, 1, 2] },
  requiredInstances: { api: [2, 2, 4, 0], batch: [1, 1, 1, 1] },
  sloAttainment: { api: [1, 0.9, 0.5, 1], batch: [1, 0.99999999999999, 0.8, 0.2] },
  nodes: { general: [1, 1, 2, 0], gpu: [0, 0, 1, 1] },
  costPerHour: [2, 2, 4, 0],
};
const demandRps = { api: [100, 100, 200, 0], batch: [0, 50, 50, 0] };
const sloPercentileByWorkload = { api: 0.99, batch: 1 };

describe('summarizePolicy', () => {
  const m = summarizePolicy({ name: 'reactive', timeline, demandRps, stepSeconds: 1800, sloPercentileByWorkload, actions: 7 });

  it('charges cost rate × step length', () => {
    // (2 + 2 + 4 + 0) per hour × 0.5 h
    expect(m.cost).toBeCloseTo(4, 12);
  });

  it('sums node-hours over pools', () => {
    // general 4 node-steps + gpu 2 node-steps, × 0.5 h
    expect(m.nodeHours).toBeCloseTo(3, 12);
  });

  it('weights SLO attainment by demand', () => {
    // api 100 + 90 + 100 + 0, batch 0 + 50 + 40 + 0 = 380 of 500 requests/s-steps
    expect(m.sloAttainment).toBeCloseTo(0.76, 12);
  });

  it('counts (workload, step) pairs below the percentile, with p = 1 meaning any real shortfall', () => {
    // api: 0.9 and 0.5 < 0.99; batch: 0.8 and 0.2 < 1, while 0.99999999999999 is rounding noise -> 4 of 8
    expect(m.violationStepShare).toBe(0.5);
  });

  it('averages the SPEC time shares over workloads', () => {
    // api: under 1/4 (t2), over 2/4 (t1, t3); batch: under 1/4 (t1), over 1/4 (t3); t0 of batch is equal within tolerance
    expect(m.underProvisionedTimeShare).toBeCloseTo(0.25, 12);
    expect(m.overProvisionedTimeShare).toBeCloseTo(0.375, 12);
  });

  it('averages the SPEC amounts over steps with required > 0, then over workloads', () => {
    // api (t3 has d = 0, skipped): θ_U = (1/4)/3 = 1/12, θ_O = (1/2)/3 = 1/6
    // batch: θ_U = (0.5/1)/4 = 1/8, θ_O = (1/1)/4 = 1/4
    expect(m.underProvisionedAmount).toBeCloseTo((1 / 12 + 1 / 8) / 2, 12);
    expect(m.overProvisionedAmount).toBeCloseTo((1 / 6 + 1 / 4) / 2, 12);
  });

  it('passes name and actions through', () => {
    expect(m.name).toBe('reactive');
    expect(m.actions).toBe(7);
  });

  it('reports full attainment when there was no demand', () => {
    const none = summarizePolicy({
      name: 'static',
      timeline,
      demandRps: { api: [0, 0, 0, 0], batch: [0, 0, 0, 0] },
      stepSeconds: 1800,
      sloPercentileByWorkload,
      actions: 0,
    });
    expect(none.sloAttainment).toBe(1);
  });

  it('rejects a workload without an SLO percentile or with a series of the wrong length', () => {
    expect(() => summarizePolicy({ name: 'static', timeline, demandRps, stepSeconds: 1800, sloPercentileByWorkload: { api: 0.99 }, actions: 0 })).toThrow(
      /batch/,
    );
    expect(() =>
      summarizePolicy({ name: 'static', timeline, demandRps: { ...demandRps, api: [1, 2, 3] }, stepSeconds: 1800, sloPercentileByWorkload, actions: 0 }),
    ).toThrow(InvalidInputError);
  });
});

describe('elasticityMetrics', () => {
  it.each([
    {
      name: 'exact supply is neither under nor over',
      required: [3, 3],
      supplied: [3, 3.0000000000001],
      want: { underProvisionedTimeShare: 0, overProvisionedTimeShare: 0, underProvisionedAmount: 0, overProvisionedAmount: 0 },
    },
    {
      name: 'half under by half, half over by double',
      required: [4, 2],
      supplied: [2, 6],
      // θ_U = (2/4)/2 = 0.25, θ_O = (4/2)/2 = 1
      want: { underProvisionedTimeShare: 0.5, overProvisionedTimeShare: 0.5, underProvisionedAmount: 0.25, overProvisionedAmount: 1 },
    },
    {
      name: 'no step with required > 0 leaves the amounts undefined',
      required: [0, 0],
      supplied: [1, 0],
      want: { underProvisionedTimeShare: 0, overProvisionedTimeShare: 0.5, underProvisionedAmount: null, overProvisionedAmount: null },
    },
  ])('$name', ({ required, supplied, want }) => {
    expect(elasticityMetrics(required, supplied)).toEqual(want);
  });

  it('leaves workloads with no defined amount out of the average', () => {
    const m = summarizePolicy({
      name: 'oracle',
      timeline: {
        ...timeline,
        instances: { api: [2, 3, 3, 1], batch: [1, 0, 0, 0] },
        requiredInstances: { api: [2, 2, 4, 0], batch: [0, 0, 0, 0] },
      },
      demandRps,
      stepSeconds: 1800,
      sloPercentileByWorkload,
      actions: 0,
    });
    // only api's 1/12 and 1/6 remain; time shares still average both: under (1/4 + 0)/2, over (2/4 + 1/4)/2
    expect(m.underProvisionedAmount).toBeCloseTo(1 / 12, 12);
    expect(m.overProvisionedAmount).toBeCloseTo(1 / 6, 12);
    expect(m.underProvisionedTimeShare).toBeCloseTo(0.125, 12);
    expect(m.overProvisionedTimeShare).toBeCloseTo(0.375, 12);
  });
});
