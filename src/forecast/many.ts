/**
 * Forecasting a collection of series on a worker pool: train the global model
 * (one seed per worker, in parallel) on every series minus its backtest span,
 * hand it to every worker, run the per-series engine (backtest, choose or
 * combine) on the pool, then calibrate every forecast with cross-series
 * conformal quantiles of the backtest errors (pooledScaledErrors): with a few
 * folds per series, a series' own errors are too few for a 95% band, and
 * hundreds of series' scaled errors are plenty. Nothing runs on the caller's
 * thread but the final, cheap calibration.
 */
import type { QuantileForecast } from '../core/forecast.ts';
import type { Series } from '../core/series.ts';
import { applyPooledConformal, pooledScaledErrors } from './conformal.ts';
import { globalTrainingSeries, type EngineConfig, type SeriesForecast } from './engine.ts';
import type { GlobalMlpModel, GlobalMlpOptions } from './globalMlp.ts';
import type { ForecastPool } from './pool.ts';

export interface ManyOptions {
  readonly config: EngineConfig;
  readonly horizonSteps: number;
  readonly levels: readonly number[];
  /** Global model training; ignored when the candidates exclude 'global-mlp'. */
  readonly global?: GlobalMlpOptions;
  /** Also forecast with (and calibrate) every single candidate. */
  readonly everyModel?: boolean;
  /** Calibrate across series (true, default) or keep each series' own calibration. */
  readonly pooledCalibration?: boolean;
  /** Steps pooled on each side in the cross-series calibration; default 0 with ≥ 100 series, else 3. */
  readonly poolHalfWidthSteps?: number;
}

export interface ManyResult {
  readonly series: readonly (SeriesForecast & { readonly seconds: number })[];
  /** The automatic choice's forecast per series (after calibration). */
  readonly forecasts: readonly QuantileForecast[];
  /** Each single model's calibrated forecast per series (with everyModel). */
  readonly perModel: Readonly<Record<string, readonly (QuantileForecast | undefined)[]>>;
  readonly globalModels: readonly GlobalMlpModel[];
  readonly trainSeconds: number;
}

export async function forecastMany(pool: ForecastPool, series: readonly Series[], options: ManyOptions): Promise<ManyResult> {
  const { config } = options;
  let globalModels: GlobalMlpModel[] = [];
  let trainSeconds = 0;
  if (config.candidates.includes('global-mlp')) {
    const started = performance.now();
    const training = globalTrainingSeries(series, config);
    const base = options.global ?? {};
    globalModels = await Promise.all(
      Array.from({ length: pool.size }, (_, k) => pool.run({ kind: 'train-global', series: training, options: { ...base, seed: (base.seed ?? 1) + k } })),
    );
    await pool.broadcast({ kind: 'set-global', models: globalModels });
    trainSeconds = (performance.now() - started) / 1000;
  }
  const results = await Promise.all(
    series.map((s) => pool.run({ kind: 'forecast', series: s, config, horizonSteps: options.horizonSteps, levels: options.levels, everyModel: options.everyModel })),
  );
  const names = new Set<string>(['auto']);
  for (const r of results) for (const name of Object.keys(r.perModel ?? {})) names.add(name);
  const pooled = options.pooledCalibration ?? true;
  const half = options.poolHalfWidthSteps ?? (series.length >= 100 ? 0 : 3);
  const calibrate = (forecast: QuantileForecast | undefined, r: SeriesForecast, errors: number[][]): QuantileForecast | undefined =>
    forecast && pooled ? applyPooledConformal(forecast, errors, r.scale, options.levels) : forecast;
  const sortedBy = new Map<string, number[][]>();
  for (const name of names) {
    sortedBy.set(name, pooledScaledErrors(results.map((r) => r.scaledErrors[name] ?? []), config.horizonSteps, half));
  }
  const forecasts = results.map((r) => calibrate(r.forecast, r, sortedBy.get('auto')!)!);
  const perModel: Record<string, (QuantileForecast | undefined)[]> = {};
  for (const name of names) {
    if (name === 'auto') continue;
    perModel[name] = results.map((r) => calibrate(r.perModel?.[name], r, sortedBy.get(name)!));
  }
  return { series: results, forecasts, perModel, globalModels, trainSeconds };
}
