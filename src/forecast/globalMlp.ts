/**
 * A global learned model: one multilayer perceptron trained across many series
 * at once (as the learned entries that do well on M4 hourly are), then used per
 * series behind the Forecaster interface.
 *
 * Sample at origin t of a series y: the inputs are the last `inputSteps` values
 * divided by the level s = mean of the last `levelSteps` values (window
 * normalisation, so series of any scale share one model), minus 1, clipped to
 * ±`clip`; plus the hour of day and day of week of step t as sin/cos pairs. The
 * outputs are the next `outputSteps` values on the same scale, predicted as a
 * correction to the seasonal naive forecast (the last season repeated), which
 * the network starts from (its last layer starts at zero). Loss: absolute error,
 * weighted per sample by s / (the series' in-sample seasonal-naive MAE), so the
 * training objective is the MASE. Optimiser: Adam with a cosine-decayed rate.
 *
 * Everything is seeded (initial weights, sample order), and the arithmetic is
 * plain sequential Float32Array loops, so a seed gives the same model bit for bit.
 * Longer horizons than `outputSteps` are forecast recursively.
 *
 * Quantiles: Gaussian around the forecast, with a per-step standard deviation of
 * the normalised errors measured on the training samples (times s); conformal
 * calibration (selection) fixes the width on each series' own backtests.
 *
 * It never sees what it is not given: `trainGlobalMlp` uses only the series it is
 * handed (cut them before any window you will score it on), and a fitted
 * forecaster reads only its own history.
 */
import type { FitInput, FittedForecaster, Forecaster } from '../core/forecast.ts';
import { endSeconds, type Series } from '../core/series.ts';
import { InvalidInputError } from '../core/errors.ts';
import { buildForecast } from './quantiles.ts';
import { fillGaps, laggedMae, normalQuantile } from './stats.ts';
import { lcg } from './random.ts';

export interface GlobalMlpOptions {
  /** Past steps fed to the network; default 168 (a week of hours). */
  readonly inputSteps?: number;
  /** Steps predicted at once; default 48. */
  readonly outputSteps?: number;
  /** Season repeated by the baseline the network corrects; default 24. */
  readonly seasonSteps?: number;
  /** Steps averaged for the normalising level; default 24. */
  readonly levelSteps?: number;
  /** Hidden layer widths; default [128, 128]. */
  readonly hidden?: readonly number[];
  /** Passes over the samples; default 8. */
  readonly epochs?: number;
  /** Samples per gradient step; default 128. */
  readonly batchSize?: number;
  /** Initial Adam step size; default 0.001. */
  readonly learningRate?: number;
  /** Steps between consecutive training origins in a series; default 4. */
  readonly strideSteps?: number;
  /** Normalised inputs and targets are clipped to ±clip; default 5. */
  readonly clip?: number;
  /** Seed of the initial weights and the sample order; default 1. */
  readonly seed?: number;
}

/** A trained model as plain data (structured-clone friendly, for worker threads). */
export interface GlobalMlpModel {
  readonly inputSteps: number;
  readonly outputSteps: number;
  readonly seasonSteps: number;
  readonly levelSteps: number;
  readonly clip: number;
  /** Layer sizes, inputs first: [inputSteps + 4, ...hidden, outputSteps]. */
  readonly sizes: readonly number[];
  /** Per layer: weights (in × out, row-major by input) then biases. */
  readonly weights: readonly Float32Array[];
  readonly biases: readonly Float32Array[];
  /** Standard deviation of the normalised training errors per output step. */
  readonly errorSigma: readonly number[];
  /** Mean training loss (weighted absolute error) of each epoch. */
  readonly lossByEpoch: readonly number[];
}

const CALENDAR_FEATURES = 4;
const HOUR_SECONDS = 3600;

function calendar(timeSeconds: number, out: Float32Array, offset: number): void {
  const hour = ((timeSeconds / HOUR_SECONDS) % 24) / 24;
  const weekday = ((timeSeconds / 86_400 + 3) % 7) / 7; // 1970-01-01 was a Thursday: +3 makes Monday 0
  out[offset] = Math.sin(2 * Math.PI * hour);
  out[offset + 1] = Math.cos(2 * Math.PI * hour);
  out[offset + 2] = Math.sin(2 * Math.PI * weekday);
  out[offset + 3] = Math.cos(2 * Math.PI * weekday);
}

function clamp(v: number, c: number): number {
  return v > c ? c : v < -c ? -c : v;
}

function levelOf(y: ArrayLike<number>, end: number, steps: number): number {
  let sum = 0;
  for (let k = end - steps; k < end; k++) sum += Math.abs(y[k]);
  const s = sum / steps;
  return s > 0 ? s : 1;
}

/** Write the normalised inputs of origin `t` into `x` at `offset`; returns the level. */
function features(model: Pick<GlobalMlpModel, 'inputSteps' | 'levelSteps' | 'clip'>, y: ArrayLike<number>, t: number, timeSeconds: number, x: Float32Array, offset: number): number {
  const s = levelOf(y, t, model.levelSteps);
  const L = model.inputSteps;
  for (let i = 0; i < L; i++) x[offset + i] = clamp(y[t - L + i] / s - 1, model.clip);
  calendar(timeSeconds, x, offset + L);
  return s;
}

/** The seasonal-naive baseline (normalised) for output step h, read from the inputs. */
function baseline(x: Float32Array, offset: number, L: number, season: number, h: number): number {
  return x[offset + L - season + (h % season)];
}

/** Forward pass for `rows` samples; returns every layer's activations (post-ReLU except the last). */
function forward(model: GlobalMlpModel, x: Float32Array, rows: number, acts?: Float32Array[]): Float32Array[] {
  const out: Float32Array[] = [x];
  let input = x;
  for (let l = 0; l < model.weights.length; l++) {
    const nIn = model.sizes[l];
    const nOut = model.sizes[l + 1];
    const w = model.weights[l];
    const b = model.biases[l];
    const z = acts && acts[l + 1] && acts[l + 1].length >= rows * nOut ? acts[l + 1] : new Float32Array(rows * nOut);
    const last = l === model.weights.length - 1;
    for (let r = 0; r < rows; r++) {
      const zo = r * nOut;
      for (let j = 0; j < nOut; j++) z[zo + j] = b[j];
      const xo = r * nIn;
      for (let i = 0; i < nIn; i++) {
        const xi = input[xo + i];
        if (xi === 0) continue;
        const wo = i * nOut;
        for (let j = 0; j < nOut; j++) z[zo + j] += xi * w[wo + j];
      }
      if (!last) for (let j = 0; j < nOut; j++) if (z[zo + j] < 0) z[zo + j] = 0;
    }
    out.push(z);
    input = z;
  }
  return out;
}

interface Sample {
  readonly series: number;
  readonly origin: number;
}

/** Train one model on every series (each must hold inputSteps + outputSteps values to give a sample). */
export function trainGlobalMlp(seriesList: readonly Series[], options: GlobalMlpOptions = {}): GlobalMlpModel {
  const L = options.inputSteps ?? 168;
  const H = options.outputSteps ?? 48;
  const season = options.seasonSteps ?? 24;
  const levelSteps = options.levelSteps ?? 24;
  const clip = options.clip ?? 5;
  const stride = options.strideSteps ?? 4;
  const batch = options.batchSize ?? 128;
  const epochs = options.epochs ?? 8;
  const lr0 = options.learningRate ?? 1e-3;
  if (season > L || levelSteps > L) throw new InvalidInputError('globalMlp', `inputSteps (${L}) must cover the season (${season}) and the level window (${levelSteps})`);
  const random = lcg(options.seed ?? 1);
  const sizes = [L + CALENDAR_FEATURES, ...(options.hidden ?? [128, 128]), H];
  const weights: Float32Array[] = [];
  const biases: Float32Array[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const w = new Float32Array(sizes[l] * sizes[l + 1]);
    // He-uniform for the ReLU layers; the output layer starts at zero (= seasonal naive).
    const bound = l + 2 < sizes.length ? Math.sqrt(6 / sizes[l]) : 0;
    for (let k = 0; k < w.length; k++) w[k] = (2 * random() - 1) * bound;
    weights.push(w);
    biases.push(new Float32Array(sizes[l + 1]));
  }
  const model: GlobalMlpModel = { inputSteps: L, outputSteps: H, seasonSteps: season, levelSteps, clip, sizes, weights, biases, errorSigma: [], lossByEpoch: [] };

  const data = seriesList.map((s) => fillGaps(s.values));
  const scales = data.map((y) => laggedMae(y, y.length > 2 * season ? season : 1) || 1);
  const samples: Sample[] = [];
  data.forEach((y, series) => {
    for (let t = y.length - H; t >= L; t -= stride) samples.push({ series, origin: t });
  });
  if (samples.length === 0) throw new InvalidInputError('series', `no series holds inputSteps + outputSteps = ${L + H} values to train on`);

  const m1 = weights.map((w) => new Float32Array(w.length));
  const v1 = weights.map((w) => new Float32Array(w.length));
  const mb = biases.map((b) => new Float32Array(b.length));
  const vb = biases.map((b) => new Float32Array(b.length));
  const gw = weights.map((w) => new Float32Array(w.length));
  const gb = biases.map((b) => new Float32Array(b.length));
  const x = new Float32Array(batch * sizes[0]);
  const target = new Float32Array(batch * H);
  const sampleWeight = new Float32Array(batch);
  const acts: Float32Array[] = [];
  const deltas = sizes.map((n) => new Float32Array(batch * n));
  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-8;
  const totalSteps = epochs * Math.ceil(samples.length / batch);
  let step = 0;
  const order = samples.map((_, i) => i);
  const lossByEpoch: number[] = [];

  const fill = (indices: readonly number[]): void => {
    indices.forEach((index, r) => {
      const { series, origin } = samples[index];
      const y = data[series];
      const s = features(model, y, origin, seriesList[series].startSeconds + origin * seriesList[series].stepSeconds, x, r * sizes[0]);
      sampleWeight[r] = Math.min(s / scales[series], 50);
      for (let h = 0; h < H; h++) target[r * H + h] = clamp(y[origin + h] / s - 1, clip) - baseline(x, r * sizes[0], L, season, h);
    });
  };

  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    let lossSum = 0;
    let weightSum = 0;
    for (let start = 0; start < order.length; start += batch) {
      const indices = order.slice(start, start + batch);
      const rows = indices.length;
      fill(indices);
      const a = forward(model, x, rows, acts);
      for (let l = 0; l < a.length; l++) acts[l] = a[l];
      // Output delta: d/dz of weight·|z − target| / (rows·H).
      const out = a[a.length - 1];
      const dOut = deltas[deltas.length - 1];
      for (let r = 0; r < rows; r++) {
        for (let h = 0; h < H; h++) {
          const e = out[r * H + h] - target[r * H + h];
          lossSum += sampleWeight[r] * Math.abs(e);
          dOut[r * H + h] = (e > 0 ? sampleWeight[r] : e < 0 ? -sampleWeight[r] : 0) / (rows * H);
        }
        weightSum += sampleWeight[r] * H;
      }
      for (let l = weights.length - 1; l >= 0; l--) {
        const nIn = sizes[l];
        const nOut = sizes[l + 1];
        const w = weights[l];
        const gW = gw[l];
        const gB = gb[l];
        gW.fill(0);
        gB.fill(0);
        const d = deltas[l + 1];
        const input = a[l];
        const dIn = deltas[l];
        for (let r = 0; r < rows; r++) {
          const doff = r * nOut;
          for (let j = 0; j < nOut; j++) gB[j] += d[doff + j];
          const ioff = r * nIn;
          for (let i = 0; i < nIn; i++) {
            const xi = input[ioff + i];
            const wo = i * nOut;
            if (l === 0) {
              if (xi !== 0) for (let j = 0; j < nOut; j++) gW[wo + j] += xi * d[doff + j];
              continue;
            }
            // The layer below is a ReLU: no gradient flows where its activation is 0.
            if (xi === 0) {
              dIn[ioff + i] = 0;
              continue;
            }
            let back = 0;
            for (let j = 0; j < nOut; j++) {
              gW[wo + j] += xi * d[doff + j];
              back += w[wo + j] * d[doff + j];
            }
            dIn[ioff + i] = back;
          }
        }
      }
      step++;
      const lr = lr0 * 0.5 * (1 + Math.cos((Math.PI * step) / totalSteps));
      const c1 = 1 - Math.pow(beta1, step);
      const c2 = 1 - Math.pow(beta2, step);
      const adam = (p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array) => {
        for (let k = 0; k < p.length; k++) {
          m[k] = beta1 * m[k] + (1 - beta1) * g[k];
          v[k] = beta2 * v[k] + (1 - beta2) * g[k] * g[k];
          p[k] -= (lr * (m[k] / c1)) / (Math.sqrt(v[k] / c2) + eps);
        }
      };
      for (let l = 0; l < weights.length; l++) {
        adam(weights[l], gw[l], m1[l], v1[l]);
        adam(biases[l], gb[l], mb[l], vb[l]);
      }
    }
    lossByEpoch.push(lossSum / weightSum);
  }

  // Spread of the normalised errors per output step, over (up to) 4096 samples spread evenly.
  const sumSq = new Float64Array(H);
  let count = 0;
  const every = Math.max(1, Math.floor(samples.length / 4096));
  for (let start = 0; start < samples.length; start += every * batch) {
    const indices: number[] = [];
    for (let k = start; k < samples.length && indices.length < batch; k += every) indices.push(k);
    fill(indices);
    const out = forward(model, x, indices.length).at(-1)!;
    for (let r = 0; r < indices.length; r++) {
      for (let h = 0; h < H; h++) sumSq[h] += (out[r * H + h] - target[r * H + h]) ** 2;
    }
    count += indices.length;
  }
  return { ...model, errorSigma: Array.from(sumSq, (s) => Math.sqrt(s / Math.max(1, count))), lossByEpoch };
}

/** Forecast `horizonSteps` values after `y` (recursively beyond the model's output). */
export function mlpForecast(model: GlobalMlpModel, y: readonly number[], startSeconds: number, stepSeconds: number, horizonSteps: number): number[] {
  const L = model.inputSteps;
  if (y.length < L) throw new InvalidInputError('history', `global-mlp needs at least ${L} values, got ${y.length}`);
  const path = y.slice();
  const x = new Float32Array(model.sizes[0]);
  while (path.length < y.length + horizonSteps) {
    const t = path.length;
    const s = features(model, path, t, startSeconds + t * stepSeconds, x, 0);
    const out = forward(model, x, 1).at(-1)!;
    for (let h = 0; h < model.outputSteps && path.length < y.length + horizonSteps; h++) {
      path.push((out[h] + baseline(x, 0, L, model.seasonSteps, h) + 1) * s);
    }
  }
  return path.slice(y.length);
}

export interface GlobalMlpForecasterOptions {
  /** Lower bound of every forecast value; default 0 (demand). */
  readonly floor?: number;
  /** Model name; default 'global-mlp'. */
  readonly name?: string;
}

/**
 * Trained global model(s) as a per-series Forecaster. Several models (say, one
 * per seed, trained in parallel) form an ensemble: their mean path, and the
 * mean of their error spreads.
 */
export function globalMlp(trained: GlobalMlpModel | readonly GlobalMlpModel[], options: GlobalMlpForecasterOptions = {}): Forecaster {
  const models: readonly GlobalMlpModel[] = Array.isArray(trained) ? trained : [trained as GlobalMlpModel];
  if (models.length === 0) throw new InvalidInputError('models', 'global-mlp needs at least one trained model');
  const name = options.name ?? 'global-mlp';
  const inputSteps = Math.max(...models.map((m) => m.inputSteps));
  return {
    name,
    fit({ history }: FitInput): FittedForecaster {
      const y = fillGaps(history.values);
      if (y.length < inputSteps) throw new InvalidInputError('history', `${name} needs at least ${inputSteps} values, got ${y.length}`);
      const grid = { model: name, startSeconds: endSeconds(history), stepSeconds: history.stepSeconds };
      let cached: number[] = [];
      return {
        predict(horizonSteps, levels) {
          if (cached.length < horizonSteps) {
            const paths = models.map((m) => mlpForecast(m, y, history.startSeconds, history.stepSeconds, horizonSteps));
            cached = paths[0].map((_, h) => paths.reduce((sum, p) => sum + p[h], 0) / paths.length);
          }
          const point = cached.slice(0, horizonSteps);
          // Beyond the trained output, the error grows like a random walk over outputs.
          const sigma = (h: number) =>
            models.reduce((sum, m) => sum + m.errorSigma[h % m.outputSteps] * Math.sqrt(Math.floor(h / m.outputSteps) + 1) * levelOf(y, y.length, m.levelSteps), 0) /
            models.length;
          return buildForecast(grid, point, levels, (lvl, h) => point[h] + normalQuantile(lvl) * sigma(h), options.floor ?? 0);
        },
      };
    },
  };
}
