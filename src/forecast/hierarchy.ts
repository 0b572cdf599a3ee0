/**
 * Hierarchical forecasting: forecast every member and every group (accounts in a
 * group, channels of a service, groups of groups to any depth) and reconcile the
 * forecasts so that members sum to their groups.
 *
 * Notation (Hyndman, Ahmed, Athanasopoulos & Shang 2011; Wickramasuriya,
 * Athanasopoulos & Hyndman 2019, "Optimal forecast reconciliation for hierarchical
 * and grouped time series through trace minimization", JASA 114(526)):
 * n nodes, m of them bottom (leaves); the summing matrix S (n × m) maps bottom values
 * to all nodes, y = S·b. Base forecasts ŷ (n) are reconciled as ỹ = S·G·ŷ with
 *   bottom-up:       G = [0 | I_m] (keep the leaves' forecasts, sum them up);
 *   ols:             G = (SᵀS)⁻¹Sᵀ (Hyndman et al. 2011: W = I);
 *   wls-structural:  G = (SᵀΛ⁻¹S)⁻¹SᵀΛ⁻¹, Λ = diag(S·1), the number of leaves under
 *                    each node (Athanasopoulos et al. 2017; WLS_s in Wickramasuriya et al. 2019);
 *   mint-shrink:     G = (SᵀW⁻¹S)⁻¹SᵀW⁻¹, W = λ·diag(Ŵ) + (1 − λ)·Ŵ, Ŵ the covariance of
 *                    the base forecasts' errors and λ the Schäfer & Strimmer (2005) shrinkage
 *                    intensity, computed as R's `hts` package does.
 * Every one is a projection onto the coherent subspace (S·G·S = S), so the reconciled
 * mean is exactly coherent.
 *
 * Quantiles: a group's q-quantile is not the sum of its members' q-quantiles, so quantile
 * paths cannot be reconciled one by one. Instead (Panagiotelis, Gamakumara, Athanasopoulos
 * & Hyndman 2023, "Probabilistic forecast reconciliation", EJOR 306(2)) joint samples are
 * drawn from the base forecasts, each sample is reconciled with the same S·G, and the
 * reported quantiles are the empirical quantiles of the reconciled samples (shifted so
 * their mean is the reconciled mean; the shift is itself coherent). Every sample is
 * coherent, so the quantiles are those of a distribution on the coherent subspace.
 * Marginals: each node's base quantiles, interpolated linearly in normal scores between
 * the given levels and extrapolated linearly beyond them. Dependence between nodes: a
 * Gaussian copula with the correlation of the base errors (when given), or independence,
 * or comonotonicity (all nodes at the same quantile). Each step is sampled separately.
 */
import type { Forecaster, QuantileForecast } from '../core/forecast.ts';
import { head, type Series } from '../core/series.ts';
import { InvalidInputError } from '../core/errors.ts';
import { checkedLevels } from './quantiles.ts';
import { cholesky, multiply, solveSpd, transpose, type Matrix } from './linalg.ts';
import { quantileFunction, seededUniform, standardNormal } from './sampling.ts';
import { sortedQuantile } from './stats.ts';

/** A node of a hierarchy: a leaf (member) or a group of children. Names are unique. */
export interface HierarchyNode {
  readonly name: string;
  readonly children?: readonly HierarchyNode[];
}

export interface Hierarchy {
  /** Every node, parents before their children (pre-order). */
  readonly nodes: readonly string[];
  /** The leaves, in pre-order; column j of S belongs to bottom[j]. */
  readonly bottom: readonly string[];
  /** Summing matrix, nodes.length × bottom.length, S[i][j] = 1 when leaf j is under (or is) node i. */
  readonly summing: readonly (readonly number[])[];
}

/** The summing matrix of a tree (or a forest: several roots) of any depth. */
export function summingMatrix(roots: HierarchyNode | readonly HierarchyNode[]): Hierarchy {
  const forest = Array.isArray(roots) ? (roots as readonly HierarchyNode[]) : [roots as HierarchyNode];
  const nodes: string[] = [];
  const leavesUnder = new Map<string, string[]>();
  const seen = new Set<string>();
  const walk = (node: HierarchyNode, path: string): string[] => {
    if (!node.name) throw new InvalidInputError(`hierarchy${path}`, 'a node needs a name');
    if (seen.has(node.name)) throw new InvalidInputError(`hierarchy${path}`, `node name '${node.name}' appears twice`);
    seen.add(node.name);
    nodes.push(node.name);
    const kids = node.children ?? [];
    const leaves = kids.length === 0 ? [node.name] : kids.flatMap((c, i) => walk(c, `${path}.${node.name}.children[${i}]`));
    leavesUnder.set(node.name, leaves);
    return leaves;
  };
  const bottom = forest.flatMap((r, i) => walk(r, `[${i}]`));
  const column = new Map(bottom.map((b, j) => [b, j]));
  const summing = nodes.map((name) => {
    const row = new Array<number>(bottom.length).fill(0);
    for (const leaf of leavesUnder.get(name)!) row[column.get(leaf)!] = 1;
    return row;
  });
  return { nodes, bottom, summing };
}

export type ReconciliationMethod = 'bottom-up' | 'ols' | 'wls-structural' | 'mint-shrink';
export const RECONCILIATION_METHODS: readonly ReconciliationMethod[] = ['bottom-up', 'ols', 'wls-structural', 'mint-shrink'];

/**
 * Covariance shrunk towards its diagonal, W = λ·diag(Ŵ) + (1 − λ)·Ŵ, with the
 * Schäfer–Strimmer intensity as in R's hts (`shrink.estim`): Ŵ = XᵀX / T of the
 * (uncentred) errors X (T × n), λ = Σ_{i≠j} Var̂(r_ij) / Σ_{i≠j} r_ij², clamped to [0, 1].
 * Returns W and λ.
 */
export function shrinkCovariance(errors: readonly (readonly number[])[]): { covariance: Matrix; lambda: number } {
  const t = errors.length;
  const n = errors[0]?.length ?? 0;
  if (t < 3) throw new InvalidInputError('reconciliation.errors', `mint-shrink needs at least 3 error vectors, got ${t}`);
  const cov: Matrix = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => errors.reduce((s, e) => s + e[i] * e[j], 0) / t));
  const sd = cov.map((row, i) => Math.sqrt(row[i]));
  const xs = errors.map((e) => e.map((v, i) => (sd[i] > 0 ? v / sd[i] : 0)));
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      let sum2 = 0;
      let sum = 0;
      for (const x of xs) {
        const w = x[i] * x[j];
        sum2 += w * w;
        sum += w;
      }
      num += (sum2 - (sum * sum) / t) / (t * (t - 1));
      const r = sd[i] > 0 && sd[j] > 0 ? cov[i][j] / (sd[i] * sd[j]) : 0;
      den += r * r;
    }
  }
  const lambda = den > 0 ? Math.min(1, Math.max(0, num / den)) : 1;
  return { covariance: cov.map((row, i) => row.map((v, j) => (i === j ? v : (1 - lambda) * v))), lambda };
}

/**
 * The reconciliation projection P = S·G (n × n): reconciled = P · base.
 * `errors` (T × n, one row per time/fold, columns in `hierarchy.nodes` order) are
 * needed for mint-shrink only.
 */
export function reconciliationMatrix(hierarchy: Hierarchy, method: ReconciliationMethod, errors?: readonly (readonly number[])[]): Matrix {
  const s = hierarchy.summing;
  const n = s.length;
  const m = hierarchy.bottom.length;
  if (method === 'bottom-up') {
    const bottomRow = hierarchy.bottom.map((b) => hierarchy.nodes.indexOf(b));
    const g: Matrix = Array.from({ length: m }, (_, j) => Array.from({ length: n }, (_, i) => (i === bottomRow[j] ? 1 : 0)));
    return multiply(s, g);
  }
  let winv: Matrix; // W⁻¹ as a dense matrix
  if (method === 'ols') {
    winv = s.map((_, i) => s.map((__, j) => (i === j ? 1 : 0)));
  } else if (method === 'wls-structural') {
    winv = s.map((row, i) => s.map((__, j) => (i === j ? 1 / row.reduce((a, b) => a + b, 0) : 0)));
  } else if (method === 'mint-shrink') {
    if (!errors || errors.length === 0) throw new InvalidInputError('reconciliation', 'mint-shrink needs the base forecasts\' errors');
    if (errors.some((e) => e.length !== n)) throw new InvalidInputError('reconciliation.errors', `every error vector needs ${n} values (one per node)`);
    const { covariance } = shrinkCovariance(errors);
    const identity = s.map((_, i) => s.map((__, j) => (i === j ? 1 : 0)));
    winv = solveSpd(covariance, identity, 'reconciliation: error covariance (a node with constant or duplicated errors?)');
  } else {
    throw new InvalidInputError('reconciliation.method', `unknown method '${String(method)}'; expected one of ${RECONCILIATION_METHODS.join(', ')}`);
  }
  const st = transpose(s);
  const stWinv = multiply(st, winv); // m × n
  const g = solveSpd(multiply(stWinv, s), stWinv, 'reconciliation'); // (SᵀW⁻¹S)⁻¹ SᵀW⁻¹, m × n
  return multiply(s, g);
}

export interface ReconcileOptions {
  readonly method: ReconciliationMethod;
  /** Base forecast errors (T × n, columns in node order): for mint-shrink, and for the copula's correlation. */
  readonly errors?: readonly (readonly number[])[];
  /** Dependence between nodes when sampling; default 'errors' when errors are given, else 'independent'. */
  readonly dependence?: 'independent' | 'comonotonic' | 'errors';
  /** Joint samples per step for the quantiles; default 2000. */
  readonly samples?: number;
  /** Seed of the sampler; default 1. */
  readonly seed?: number;
}

function correlationFromErrors(errors: readonly (readonly number[])[], n: number): Matrix {
  const mean = Array.from({ length: n }, (_, i) => errors.reduce((s, e) => s + e[i], 0) / errors.length);
  const cov = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => errors.reduce((s, e) => s + (e[i] - mean[i]) * (e[j] - mean[j]), 0)));
  // A little ridge keeps the Cholesky factor defined when nodes are exact sums of others.
  return cov.map((row, i) => row.map((v, j) => (i === j ? 1 : (0.999 * v) / Math.sqrt(cov[i][i] * cov[j][j] || 1))));
}

/**
 * Reconcile base forecasts (one per node, same grid) so members sum to groups.
 * Returns one forecast per node with the reconciled mean and quantiles at the
 * base forecasts' levels (see the module comment for the method).
 */
export function reconcile(
  hierarchy: Hierarchy,
  forecasts: Readonly<Record<string, QuantileForecast>>,
  options: ReconcileOptions,
): Record<string, QuantileForecast> {
  const nodes = hierarchy.nodes;
  const base = nodes.map((name) => {
    const f = forecasts[name];
    if (!f) throw new InvalidInputError(`reconcile.forecasts.${name}`, 'no forecast for this node');
    return f;
  });
  const { stepSeconds, startSeconds } = base[0];
  const horizon = base[0].mean.length;
  for (const [i, f] of base.entries()) {
    if (f.mean.length !== horizon || f.stepSeconds !== stepSeconds || f.startSeconds !== startSeconds) {
      throw new InvalidInputError(`reconcile.forecasts.${nodes[i]}`, `forecasts must share one grid (start ${startSeconds}, step ${stepSeconds} s, ${horizon} steps)`);
    }
  }
  const levels = checkedLevels(base[0].quantiles.map((q) => q.level));
  const p = reconciliationMatrix(hierarchy, options.method, options.errors);
  const n = nodes.length;
  const apply = (v: readonly number[]) => p.map((row) => row.reduce((s, w, k) => s + w * v[k], 0));
  const means: number[][] = nodes.map(() => new Array<number>(horizon));
  const paths: number[][][] = nodes.map(() => levels.map(() => new Array<number>(horizon)));

  const dependence = options.dependence ?? (options.errors && options.errors.length > 2 ? 'errors' : 'independent');
  if (dependence === 'errors' && !(options.errors && options.errors.length > 2)) throw new InvalidInputError('reconcile.dependence', "'errors' needs at least 3 error vectors");
  const chol = dependence === 'errors' ? cholesky(correlationFromErrors(options.errors!, n), 'hierarchy errors', 1e-12) : undefined;
  const count = options.samples ?? 2000;
  const normal = standardNormal(seededUniform(options.seed ?? 1));

  for (let h = 0; h < horizon; h++) {
    const reconciledMean = apply(base.map((f) => f.mean[h]));
    reconciledMean.forEach((v, i) => (means[i][h] = v));
    if (levels.length === 0) continue;
    const quantileFns = base.map((f) => quantileFunction(f, h));
    const draws: number[][] = nodes.map(() => new Array<number>(count));
    for (let k = 0; k < count; k++) {
      let z: number[];
      if (dependence === 'comonotonic') z = new Array<number>(n).fill(normal());
      else {
        const e = Array.from({ length: n }, normal);
        z = chol ? chol.map((row) => row.reduce((s, v, j) => s + v * e[j], 0)) : e;
      }
      const sample = apply(quantileFns.map((q, i) => q(z[i])));
      sample.forEach((v, i) => (draws[i][k] = v));
    }
    for (let i = 0; i < n; i++) {
      const d = draws[i];
      const shift = reconciledMean[i] - d.reduce((a, b) => a + b, 0) / count;
      d.sort((a, b) => a - b);
      levels.forEach((level, l) => (paths[i][l][h] = sortedQuantile(d, level) + shift));
    }
  }
  const out: Record<string, QuantileForecast> = {};
  nodes.forEach((name, i) => {
    out[name] = {
      model: `${base[i].model}+${options.method}`,
      startSeconds,
      stepSeconds,
      mean: means[i],
      quantiles: levels.map((level, l) => ({ level, values: paths[i][l] })),
    };
  });
  return out;
}

/** The history of every node: leaves as given, groups as the sum of their leaves (same grid). */
export function aggregateHistories(hierarchy: Hierarchy, leaves: Readonly<Record<string, Series>>): Record<string, Series> {
  const bottom = hierarchy.bottom.map((b) => {
    const s = leaves[b];
    if (!s) throw new InvalidInputError(`hierarchy.histories.${b}`, 'no history for this member');
    return s;
  });
  const { startSeconds, stepSeconds } = bottom[0];
  const length = Math.min(...bottom.map((s) => s.values.length));
  for (const [j, s] of bottom.entries()) {
    if (s.startSeconds !== startSeconds || s.stepSeconds !== stepSeconds) {
      throw new InvalidInputError(`hierarchy.histories.${hierarchy.bottom[j]}`, `members must share one grid (start ${startSeconds}, step ${stepSeconds} s)`);
    }
  }
  const out: Record<string, Series> = {};
  hierarchy.nodes.forEach((name, i) => {
    const row = hierarchy.summing[i];
    const values = Array.from({ length }, (_, t) => row.reduce((s, w, j) => s + (w ? bottom[j].values[t] : 0), 0));
    out[name] = { startSeconds, stepSeconds, values };
  });
  return out;
}

export interface HierarchicalForecastOptions extends Omit<ReconcileOptions, 'errors'> {
  /** Rolling origins whose forecast errors estimate the error covariance (mint-shrink, copula); default 8. */
  readonly errorOrigins?: number;
  /** Steps between those origins; default horizonSteps / 2. */
  readonly errorStrideSteps?: number;
}

export interface HierarchicalForecast {
  /** Base (unreconciled) forecasts per node. */
  readonly base: Record<string, QuantileForecast>;
  /** Reconciled forecasts per node: members sum to groups. */
  readonly reconciled: Record<string, QuantileForecast>;
  /** The error vectors used (T × n, node order), from the rolling origins. */
  readonly errors: number[][];
}

/**
 * Forecast every node of a hierarchy with `model` and reconcile. Group histories
 * are the sums of their members. The error covariance comes from rolling-origin
 * forecasts on the tail of the histories (every step of every origin is one error
 * vector): a multi-step stand-in for the one-step in-sample residuals of
 * Wickramasuriya et al., which a generic Forecaster does not expose.
 */
export function forecastHierarchy(
  hierarchy: Hierarchy,
  leaves: Readonly<Record<string, Series>>,
  model: Forecaster,
  horizonSteps: number,
  levels: readonly number[],
  options: HierarchicalForecastOptions,
): HierarchicalForecast {
  const histories = aggregateHistories(hierarchy, leaves);
  const nodes = hierarchy.nodes;
  const base: Record<string, QuantileForecast> = {};
  for (const name of nodes) base[name] = model.fit({ history: histories[name] }).predict(horizonSteps, levels);
  const errors: number[][] = [];
  const needErrors = options.method === 'mint-shrink' || options.dependence === 'errors' || options.dependence === undefined;
  if (needErrors) {
    const length = histories[nodes[0]].values.length;
    const stride = options.errorStrideSteps ?? Math.max(1, Math.floor(horizonSteps / 2));
    for (let k = 0; k < (options.errorOrigins ?? 8); k++) {
      const origin = length - horizonSteps - k * stride;
      if (origin < 2 * horizonSteps) break;
      const fold = nodes.map((name) => model.fit({ history: head(histories[name], origin) }).predict(horizonSteps, [0.5]).mean);
      for (let h = 0; h < horizonSteps; h++) errors.push(nodes.map((name, i) => histories[name].values[origin + h] - fold[i][h]));
    }
  }
  const reconciled = reconcile(hierarchy, base, { ...options, errors: errors.length > 2 ? errors : undefined });
  return { base, reconciled, errors };
}
