import { describe, expect, it } from 'vitest';
import { lcg } from '../forecast/testData.ts';
import { type Constraint, type LinearModel, ModelBuilder, fixColumns } from './lp.ts';
import { SolverAbortedError, highsFailure, loadHighs, solveModel } from './solver.ts';

describe('solveModel: lazy constraints', () => {
  // max 2x + y  s.t. x + y ≤ 4, x, y ∈ [0, 10]; lazily x ≤ 1 (binds) and y ≤ 9 (never binds).
  const b = new ModelBuilder();
  const x = b.addVariable('x', 0, 10, -2, false);
  const y = b.addVariable('y', 0, 10, -1, false);
  b.addConstraint('sum', [x, y], [1, 1], '<=', 4);
  const model = b.build();
  const xCap: Constraint = { name: 'x_cap', sense: '<=', rhs: 1, indices: [x], coefficients: [1] };
  const yCap: Constraint = { name: 'y_cap', sense: '<=', rhs: 9, indices: [y], coefficients: [1] };

  it('adds the violated one and re-solves: x = 1, y = 3 (without it x = 4)', async () => {
    const plain = await solveModel(model, { via: 'arrays', relax: true });
    expect(plain.objective).toBeCloseTo(-8, 9);
    const out = await solveModel(model, { via: 'arrays', relax: true, lazy: [xCap, yCap] });
    expect(out.status).toBe('optimal');
    expect(out.values[x]).toBeCloseTo(1, 9);
    expect(out.values[y]).toBeCloseTo(3, 9);
    expect(out.objective).toBeCloseTo(-5, 9);
    expect(out.lazyAdded).toBe(1);
    expect(out.lazyRounds).toBe(1);
    // Iterations count both solves: the first (as the plain LP's) and the
    // re-solve after x ≤ 1 came in (presolve off: it would solve this LP with none).
    const noPresolve = { presolve: 'off' };
    const plainIterations = (await solveModel(model, { via: 'arrays', relax: true, highsOptions: noPresolve })).iterations ?? 0;
    expect(plainIterations).toBeGreaterThan(0);
    expect((await solveModel(model, { via: 'arrays', relax: true, lazy: [xCap, yCap], highsOptions: noPresolve })).iterations).toBeGreaterThan(plainIterations);
    // Duals cover the model's own rows only: x + y ≤ 4 is worth y's price, 1 per unit.
    expect(out.rowDuals).toHaveLength(1);
    expect(Math.abs(out.rowDuals[0])).toBeCloseTo(1, 9);
  });

  it('adds nothing when the first optimum already satisfies them', async () => {
    const out = await solveModel(model, { via: 'arrays', relax: true, lazy: [yCap] });
    expect(out.objective).toBeCloseTo(-8, 9);
    expect(out.lazyAdded).toBe(0);
    expect(out.lazyRounds).toBe(0);
  });

  it('reports no simplex iterations for a MIP (branch and bound counts differently)', async () => {
    const mip: LinearModel = { ...model, variables: model.variables.map((v) => ({ ...v, integer: true })) };
    const out = await solveModel(mip, { via: 'arrays' });
    expect(out.objective).toBeCloseTo(-8, 9);
    expect(out.iterations).toBeUndefined();
  });

  it('reports an infeasible LP when a lazy constraint makes it so', async () => {
    const out = await solveModel(model, { via: 'arrays', relax: true, lazy: [{ name: 'x_floor', sense: '>=', rhs: 5, indices: [x], coefficients: [1] }] });
    expect(out.status).toBe('infeasible');
  });

  it('refuses them for a MIP or an LP passed as text', async () => {
    await expect(solveModel(model, { via: 'lp', relax: true, lazy: [xCap] })).rejects.toThrow(/lazy constraints need an LP passed as arrays/);
    const mip: LinearModel = { variables: model.variables.map((v) => ({ ...v, integer: true })), constraints: model.constraints };
    await expect(solveModel(mip, { via: 'arrays', lazy: [xCap] })).rejects.toThrow(/lazy constraints need an LP passed as arrays/);
  });

  it('gives the optimum of the model with all of them, on random LPs', async () => {
    const rand = lcg(17);
    let rounds = 0;
    for (let trial = 0; trial < 12; trial++) {
      const m = new ModelBuilder();
      const n = 30;
      const vars = Array.from({ length: n }, (_, i) => m.addVariable(`v${i}`, 0, 10, -(0.1 + rand()), false));
      const row = (): Constraint => {
        const indices = vars.filter(() => rand() < 0.3);
        return { name: 'r', sense: '<=', rhs: 5 + 20 * rand(), indices, coefficients: indices.map(() => rand()) };
      };
      const base = Array.from({ length: 10 }, row);
      const lazy = Array.from({ length: 25 }, row);
      for (const c of base) m.addConstraint('base', c.indices, c.coefficients, c.sense, c.rhs);
      const withBase = m.build();
      const all: LinearModel = { variables: withBase.variables, constraints: [...withBase.constraints, ...lazy] };
      const eager = await solveModel(all, { via: 'arrays', relax: true });
      const lazily = await solveModel(withBase, { via: 'arrays', relax: true, lazy });
      expect(lazily.status).toBe('optimal');
      expect(lazily.objective, `trial ${trial}`).toBeCloseTo(eager.objective, 6);
      rounds += lazily.lazyRounds ?? 0;
      // Every lazy constraint holds at the answer.
      for (const c of lazy) {
        const activity = c.indices.reduce((sum, i, j) => sum + c.coefficients[j] * lazily.values[i], 0);
        expect(activity).toBeLessThanOrEqual(c.rhs + 1e-6 * Math.max(1, c.rhs));
      }
    }
    // The lazy constraints did bind: the LPs were re-solved after adding some.
    expect(rounds).toBeGreaterThan(12);
  });
});

describe('HiGHS aborts', () => {
  // A real abort needs the 2 GiB heap filled (minutes; reproduced by hand on
  // the exact model at 100 workloads × 150 pools × 24 steps). Here the throw
  // is the one Emscripten's abort raises, a WebAssembly.RuntimeError.
  const wasmAbort = () => new (globalThis as unknown as { WebAssembly: { RuntimeError: ErrorConstructor } }).WebAssembly.RuntimeError('Aborted(). Build with -sASSERTIONS for more info.');

  it('becomes a SolverAbortedError naming the model, and the next solve runs in a fresh runtime', async () => {
    const before = await loadHighs();
    const failure = highsFailure(wasmAbort(), 681_066, 368_740);
    expect(failure).toBeInstanceOf(SolverAbortedError);
    expect((failure as Error).message).toMatch(/681,066 columns × 368,740 rows.*2 GiB.*decomposition/);
    const after = await loadHighs();
    expect(after).not.toBe(before);
    const b = new ModelBuilder();
    const x = b.addVariable('x', 0, 10, -1, true);
    b.addConstraint('cap', [x], [2], '<=', 7);
    const solved = await solveModel(b.build());
    expect(solved.status).toBe('optimal');
    expect(solved.values[x]).toBe(3);
  });

  it('leaves other errors, and the runtime, as they were', async () => {
    const before = await loadHighs();
    const other = new TypeError('not HiGHS');
    expect(highsFailure(other, 1, 1)).toBe(other);
    expect(await loadHighs()).toBe(before);
  });
});

describe('fixColumns', () => {
  /** min x + 2y + 3z  s.t.  x + y + z ≥ 4,  x − y = 1,  z ≤ 5 (alone),  x ≤ 3 (alone); x, y, z ∈ [0, 10]. */
  const build = (): LinearModel => {
    const b = new ModelBuilder();
    const x = b.addVariable('x', 0, 10, 1, true);
    const y = b.addVariable('y', 0, 10, 2, false);
    const z = b.addVariable('z', 0, 10, 3, true);
    b.addConstraint('cover', [x, y, z], [1, 1, 1], '>=', 4);
    b.addConstraint('diff', [x, y], [1, -1], '=', 1);
    b.addConstraint('zcap', [z], [1], '<=', 5);
    b.addConstraint('xcap', [x], [1], '<=', 3);
    return b.build();
  };

  it('moves what fixed columns contribute into the right-hand sides and solves to the same optimum as fixing bounds', async () => {
    const model = build();
    const reduced = fixColumns(model, new Map([[0, 2]]))!;
    expect(reduced.model.variables.map((v) => v.cost)).toEqual([2, 3]);
    expect([...reduced.columns]).toEqual([1, 2]);
    expect([...reduced.indexOf]).toEqual([-1, 0, 1]);
    expect(reduced.objectiveOffset).toBe(2);
    // cover: y + z ≥ 2; diff: −y = −1; zcap stays; xcap (x alone, 2 ≤ 3) is dropped.
    expect(reduced.model.constraints.map((c) => [c.sense, c.rhs, [...c.indices]])).toEqual([
      ['>=', 2, [0, 1]],
      ['=', -1, [0]],
      ['<=', 5, [1]],
    ]);
    const solved = await solveModel(reduced.model, { via: 'arrays' });
    expect(solved.status).toBe('optimal');
    const full = reduced.expand(solved.values);
    expect([...full]).toEqual([2, 1, 1]);
    expect(solved.objective + reduced.objectiveOffset).toBeCloseTo(7, 9);
    const bounded = await solveModel({ variables: model.variables.map((v, i) => (i === 0 ? { ...v, lower: 2, upper: 2 } : v)), constraints: model.constraints }, { via: 'arrays' });
    expect(bounded.objective).toBeCloseTo(solved.objective + reduced.objectiveOffset, 9);
  });

  it('answers undefined when a row left without columns does not hold at the fixed values', () => {
    expect(fixColumns(build(), new Map([[0, 4]]))).toBeUndefined(); // x ≤ 3
    expect(fixColumns(build(), new Map([[0, 3], [1, 1]]))).toBeUndefined(); // x − y = 1
    expect(fixColumns(build(), new Map([[0, 3], [1, 2]]))).toBeDefined();
  });
});
