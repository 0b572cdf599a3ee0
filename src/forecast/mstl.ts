/**
 * MSTL (Bandara, Hyndman & Bergmeir 2021) via augurs: STL peels off the daily and
 * weekly seasonal components, AutoETS forecasts the remainder + trend, and the
 * seasonal components repeat. Quantiles are Gaussian, with sigma per step derived
 * from augurs' 95% interval, so any level costs one predict call.
 */
import type { FitInput, FittedForecaster, Forecaster } from '../core/forecast.ts';
import { endSeconds } from '../core/series.ts';
import { InvalidInputError } from '../core/errors.ts';
import { AUGURS_LEVEL, augursMstl, gaussianFromAugurs } from './augurs.ts';
import { autoEts } from './autoEts.ts';
import { seasonalPeriods } from './periods.ts';
import { buildForecast } from './quantiles.ts';
import { fillGaps, normalQuantile } from './stats.ts';

export interface MstlOptions {
  /**
   * Seasonal periods in steps; default daily and weekly, each kept only when the
   * history holds two full cycles. With no usable period the model is AutoETS.
   */
  readonly periodsSteps?: readonly number[];
  /** Lower bound of every forecast value; default 0 (demand). */
  readonly floor?: number;
}

export function mstl(options: MstlOptions = {}): Forecaster {
  return {
    name: 'mstl',
    fit(input: FitInput): FittedForecaster {
      const { history } = input;
      const y = fillGaps(history.values);
      if (y.length < 4) throw new InvalidInputError('history', `mstl needs at least 4 values, got ${y.length}`);
      const periods = (options.periodsSteps ?? seasonalPeriods(history.stepSeconds, y.length)).filter(
        (p) => p >= 2 && y.length >= 2 * p,
      );
      if (periods.length === 0) return autoEts({ floor: options.floor }).fit(input);
      const { MSTL } = augursMstl();
      const model = MSTL.ets(periods);
      model.fit(y);
      const grid = { model: 'mstl', startSeconds: endSeconds(history), stepSeconds: history.stepSeconds };
      return {
        predict(horizonSteps, levels) {
          const { mean, sigma } = gaussianFromAugurs(model.predict(horizonSteps, AUGURS_LEVEL));
          return buildForecast(grid, mean, levels, (level, h) => mean[h] + normalQuantile(level) * sigma[h], options.floor ?? 0);
        },
      };
    },
  };
}
