/**
 * The one seam to HiGHS: solve a `LinearModel` and return values by variable
 * index. The Wasm module is loaded once per process (module-level promise).
 */
import highsModule, { type Highs, type ModelData } from 'highs';
import { type Constraint, type LinearModel, rowBounds, rowHolds, toLpText } from './lp.ts';

/**
 * The package ships CommonJS typings but an ES module build: TypeScript sees the
 * default import as the CommonJS namespace, Node's ESM loader gives the function.
 */
type Loader = () => Promise<Highs>;
const highsLoader: Loader =
  typeof highsModule === 'function' ? (highsModule as unknown as Loader) : (highsModule as unknown as { default: Loader }).default;

let highsPromise: Promise<Highs> | undefined;

/** The loaded HiGHS runtime (loaded on first use, then shared until it aborts). */
export function loadHighs(): Promise<Highs> {
  highsPromise ??= highsLoader();
  return highsPromise;
}

/**
 * HiGHS aborted: its WebAssembly heap (at most 2 GiB in this build) was full,
 * or it failed inside. The runtime it ran in is dropped and the next solve
 * loads a fresh one, so one failed solve does not take the process with it.
 */
export class SolverAbortedError extends Error {
  constructor(
    readonly columns: number,
    readonly rows: number,
    cause: unknown,
  ) {
    super(
      `HiGHS aborted on a model of ${columns.toLocaleString('en-US')} columns × ${rows.toLocaleString('en-US')} rows; its WebAssembly heap holds at most 2 GiB, which a model this size can fill: use the decomposition, fewer steps or fewer pools`,
      { cause },
    );
    this.name = 'SolverAbortedError';
  }
}

/** What an Emscripten abort (and any WebAssembly trap) throws; the Node typings leave the WebAssembly namespace out. */
const WasmRuntimeError = (globalThis as unknown as { WebAssembly: { RuntimeError: ErrorConstructor } }).WebAssembly.RuntimeError;

/**
 * What a caller of the runtime rethrows: a WebAssembly abort becomes a
 * `SolverAbortedError` and drops the runtime (see above); any other error is
 * returned unchanged.
 */
export function highsFailure(error: unknown, columns: number, rows: number): unknown {
  if (!(error instanceof WasmRuntimeError)) return error;
  highsPromise = undefined;
  return new SolverAbortedError(columns, rows, error.message);
}

/** Models with at most this many variables skip the feasibility-jump heuristic. */
const SMALL_MODEL_VARIABLES = 2000;

export type SolveStatus = 'optimal' | 'timeLimit' | 'infeasible' | 'unbounded' | 'error';

export interface SolveOptions {
  /** `lp`: pass CPLEX LP text (small models); `arrays`: pass sparse arrays (large models). */
  readonly via?: 'lp' | 'arrays';
  /** Drop integrality and solve the LP relaxation (row duals are then available). */
  readonly relax?: boolean;
  readonly timeLimitSeconds?: number;
  readonly mipRelGap?: number;
  /**
   * A MIP start: values of some columns (typically the integer ones of a
   * known plan). HiGHS completes the rest and, if the result is feasible,
   * starts from it as the incumbent; an infeasible start is ignored.
   */
  readonly start?: { readonly indices: Int32Array; readonly values: Float64Array };
  /** Extra HiGHS options (e.g. \`solver: 'ipm'\`), passed through unchanged. */
  readonly highsOptions?: Readonly<Record<string, string | number | boolean>>;
  /**
   * LP relaxations passed as arrays only: constraints left out of the first
   * solve. Those its optimum violates are added and the LP is solved again
   * from its basis (dual simplex), until none is violated. That optimum
   * satisfies every constraint and is optimal with fewer of them, so it is
   * the optimum with all of them. `rowDuals` cover the model's constraints
   * (a lazy constraint never added is slack: its dual is 0).
   */
  readonly lazy?: readonly Constraint[];
}

export interface SolveResult {
  readonly status: SolveStatus;
  /** HiGHS' own status text, for messages. */
  readonly statusText: string;
  /** Primal values by variable index (empty when no solution exists). */
  readonly values: Float64Array;
  /** Row duals by constraint index (LP relaxations only; empty otherwise). */
  readonly rowDuals: Float64Array;
  readonly objective: number;
  /** Best proven lower bound on the objective (the objective itself for an optimal LP). */
  readonly lowerBound: number;
  readonly seconds: number;
  /** Lazy constraints that had to be added (see `SolveOptions.lazy`), and the LP solves it took. */
  readonly lazyAdded?: number;
  readonly lazyRounds?: number;
  /** Simplex iterations over every solve of an LP (its lazy rounds included); absent for MIPs. */
  readonly iterations?: number;
}

/** Most rounds of adding violated lazy constraints before giving up and adding all the rest. */
const MAX_LAZY_ROUNDS = 20;

/** Lazy constraints violated by `x` (`rowHolds`' tolerance). */
function violated(lazy: readonly Constraint[], pending: readonly number[], x: ArrayLike<number>): number[] {
  return pending.filter((i) => {
    const c = lazy[i];
    let activity = 0;
    for (let j = 0; j < c.indices.length; j++) activity += c.coefficients[j] * x[c.indices[j]];
    return !rowHolds(c, activity);
  });
}

const STATUS_TEXT: Record<number, string> = {
  7: 'Optimal',
  8: 'Infeasible',
  9: 'Primal infeasible or unbounded',
  10: 'Unbounded',
  13: 'Time limit reached',
  14: 'Iteration limit reached',
};

function toModelData(model: LinearModel, relax: boolean): ModelData {
  const { variables, constraints } = model;
  const numCols = variables.length;
  const numRows = constraints.length;
  let nonzeros = 0;
  for (const c of constraints) nonzeros += c.indices.length;
  const starts = new Int32Array(numRows + 1);
  const indices = new Int32Array(nonzeros);
  const values = new Float64Array(nonzeros);
  const rowLower = new Float64Array(numRows);
  const rowUpper = new Float64Array(numRows);
  let k = 0;
  constraints.forEach((c, r) => {
    starts[r] = k;
    for (let j = 0; j < c.indices.length; j++) {
      indices[k] = c.indices[j];
      values[k] = c.coefficients[j];
      k++;
    }
    [rowLower[r], rowUpper[r]] = rowBounds(c);
  });
  starts[numRows] = k;
  const colCost = new Float64Array(numCols);
  const colLower = new Float64Array(numCols);
  const colUpper = new Float64Array(numCols);
  const integrality = new Int32Array(numCols);
  variables.forEach((v, i) => {
    colCost[i] = v.cost;
    colLower[i] = v.lower;
    colUpper[i] = v.upper;
    integrality[i] = v.integer && !relax ? 1 : 0;
  });
  return {
    numCols,
    numRows,
    colCost,
    colLower,
    colUpper,
    rowLower,
    rowUpper,
    matrix: { format: 'csr', numRows, numCols, starts, indices, values },
    integrality,
  };
}

function relaxedLpText(model: LinearModel): string {
  return toLpText({ variables: model.variables.map((v) => ({ ...v, integer: false })), constraints: model.constraints });
}

/** Solves a minimization model with HiGHS. Never throws for infeasible or limited runs: see `status`. */
export async function solveModel(model: LinearModel, options: SolveOptions = {}): Promise<SolveResult> {
  const highs = await loadHighs();
  const relax = options.relax ?? false;
  const via = options.via ?? 'lp';
  const started = performance.now();
  const source = via === 'lp' ? { format: 'lp' as const, data: relax ? relaxedLpText(model) : toLpText(model) } : toModelData(model, relax);
  const isMip = !relax && model.variables.some((v) => v.integer);
  let created: ReturnType<Highs['createModel']> | undefined;
  try {
    const hm = (created = highs.createModel(source));
    hm.options.set({
      output_flag: false,
      mip_rel_gap: options.mipRelGap ?? 1e-4,
      time_limit: options.timeLimitSeconds ?? 30,
      random_seed: 0,
      // The feasibility-jump heuristic costs ~10 ms per solve in the Wasm build
      // whatever the model's size; small models are solved at the root anyway.
      mip_heuristic_run_feasibility_jump: model.variables.length > SMALL_MODEL_VARIABLES,
      ...options.highsOptions,
    });
    if (options.start && options.start.indices.length > 0 && isMip) hm.setSolution({ indices: options.start.indices, values: options.start.values });
    const lazy = options.lazy ?? [];
    if (lazy.length > 0 && (isMip || via !== 'arrays')) throw new Error('lazy constraints need an LP passed as arrays');
    hm.run();
    const simplexIterations = () => Number(hm.info.get('simplex_iteration_count'));
    let iterations = simplexIterations();
    let lazyAdded = 0;
    let lazyRounds = 0;
    let pending = lazy.map((_, i) => i);
    while (pending.length > 0 && hm.getModelStatus() === 7) {
      const x = hm.getSolution().colValue;
      // After MAX_LAZY_ROUNDS, everything still pending goes in at once (then the last solve has them all).
      const add = lazyRounds < MAX_LAZY_ROUNDS ? violated(lazy, pending, x) : pending;
      if (add.length === 0) break;
      for (const i of add) {
        const [lower, upper] = rowBounds(lazy[i]);
        hm.addRow(lower, upper, { indices: Int32Array.from(lazy[i].indices), values: Float64Array.from(lazy[i].coefficients) });
      }
      const added = new Set(add);
      pending = pending.filter((i) => !added.has(i));
      lazyAdded += add.length;
      lazyRounds++;
      hm.run();
      iterations += simplexIterations();
    }
    const code = hm.getModelStatus();
    const statusText = STATUS_TEXT[code] ?? `HiGHS status ${code}`;
    const hasPrimal = Number(hm.info.get('primal_solution_status')) === 2;
    const status: SolveStatus =
      code === 7 ? 'optimal' : code === 8 ? 'infeasible' : code === 10 || code === 9 ? (code === 9 ? 'infeasible' : 'unbounded') : code === 13 && hasPrimal ? 'timeLimit' : 'error';
    if (!hasPrimal || (status !== 'optimal' && status !== 'timeLimit')) {
      return { status, statusText, values: new Float64Array(0), rowDuals: new Float64Array(0), objective: NaN, lowerBound: NaN, seconds: (performance.now() - started) / 1000 };
    }
    const solution = hm.getSolution();
    let values = solution.colValue;
    if (via === 'lp') {
      // The LP reader numbers columns by first appearance; map back by name.
      const byIndex = new Float64Array(model.variables.length);
      model.variables.forEach((v, i) => {
        byIndex[i] = solution.colValue[hm.getColByName(v.name)];
      });
      values = byIndex;
    }
    const objective = hm.getObjectiveValue();
    const lowerBound = isMip ? Number(hm.info.get('mip_dual_bound')) : objective;
    return {
      status,
      statusText,
      values,
      rowDuals: isMip ? new Float64Array(0) : solution.rowDual.slice(0, model.constraints.length),
      objective,
      lowerBound,
      seconds: (performance.now() - started) / 1000,
      ...(lazy.length > 0 ? { lazyAdded, lazyRounds } : {}),
      ...(isMip ? {} : { iterations }),
    };
  } catch (error) {
    throw highsFailure(error, model.variables.length, model.constraints.length);
  } finally {
    created?.dispose();
  }
}

/** Relative gap between a solution's objective and a lower bound (0 when both are 0). */
export function relativeGap(objective: number, lowerBound: number): number {
  const denominator = Math.max(Math.abs(objective), 1e-9);
  return Math.max(0, (objective - lowerBound) / denominator);
}
