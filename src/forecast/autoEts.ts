/**
 * Automatic exponential smoothing (augurs AutoETS: error, trend and damping chosen
 * by AICc). augurs 0.10 fits non-seasonal ETS only (a seasonal spec finds no model),
 * so a short season is handled as in the M4 benchmarks: classical decomposition at
 * the daily period when the 90% autocorrelation test finds it, ETS on the adjusted
 * series, then the seasonal pattern restored on the forecast.
 */
import type { FitInput, FittedForecaster, Forecaster } from '../core/forecast.ts';
import { endSeconds } from '../core/series.ts';
import { InvalidInputError } from '../core/errors.ts';
import { AUGURS_LEVEL, augursEts, gaussianFromAugurs } from './augurs.ts';
import { seasonalAdjustment } from './decompose.ts';
import { DAY_SECONDS, periodSteps } from './periods.ts';
import { buildForecast } from './quantiles.ts';
import { fillGaps, normalQuantile } from './stats.ts';

export interface AutoEtsOptions {
  /** Season length in steps; default one day. Longer than `maxSeasonSteps` is ignored. */
  readonly seasonSteps?: number;
  /** Longest season handled (steps); default 168. Longer seasons belong to MSTL. */
  readonly maxSeasonSteps?: number;
  /** Lower bound of every forecast value; default 0 (demand). */
  readonly floor?: number;
}

export function autoEts(options: AutoEtsOptions = {}): Forecaster {
  return {
    name: 'auto-ets',
    fit({ history }: FitInput): FittedForecaster {
      const y = fillGaps(history.values);
      if (y.length < 4) throw new InvalidInputError('history', `auto-ets needs at least 4 values, got ${y.length}`);
      const season = options.seasonSteps ?? periodSteps(history.stepSeconds, DAY_SECONDS);
      const adjustment =
        season !== undefined && season <= (options.maxSeasonSteps ?? 168) ? seasonalAdjustment(y, season) : undefined;
      const { AutoETS } = augursEts();
      const model = new AutoETS(1, 'ZZN');
      model.fit(adjustment ? adjustment.adjusted : y);
      const grid = { model: 'auto-ets', startSeconds: endSeconds(history), stepSeconds: history.stepSeconds };
      return {
        predict(horizonSteps, levels) {
          const { mean, sigma } = gaussianFromAugurs(model.predict(horizonSteps, AUGURS_LEVEL));
          const point = mean.map((v, h) => (adjustment ? adjustment.restore(v, h) : v));
          const spread = sigma.map((s, h) => (adjustment ? s * adjustment.spreadFactor(h) : s));
          return buildForecast(grid, point, levels, (level, h) => point[h] + normalQuantile(level) * spread[h], options.floor ?? 0);
        },
      };
    },
  };
}
