/** Forecasting models, wrappers and the registry the rest of headroom uses. */
import type { Forecaster } from '../core/forecast.ts';
import { InvalidInputError } from '../core/errors.ts';
import { autoEts } from './autoEts.ts';
import { mstl } from './mstl.ts';
import { seasonalNaive } from './seasonalNaive.ts';
import { selectByBacktest } from './select.ts';

export { seasonalNaive, type SeasonalNaiveOptions } from './seasonalNaive.ts';
export { mstl, type MstlOptions } from './mstl.ts';
export { autoEts, type AutoEtsOptions } from './autoEts.ts';
export { calibrated, conformalFromFolds, type CalibrationOptions, type ConformalOptions } from './conformal.ts';
export { refitting, type OnlineForecaster, type RefittingOptions } from './online.ts';
export { selectByBacktest, type SelectionOptions, type SelectedFit, type CandidateScore } from './select.ts';
export { backtest, rollingOrigins, type BacktestFold, type RollingOriginOptions } from './backtest.ts';
export { normalQuantile } from './stats.ts';

export const FORECASTER_NAMES = ['seasonal-naive', 'mstl', 'auto-ets', 'auto'] as const;
export type ForecasterName = (typeof FORECASTER_NAMES)[number];

export interface RegistryOptions {
  /** Horizon (steps) 'auto' compares candidates on; default one day in steps. */
  readonly horizonSteps?: number;
}

/** A forecaster by its registry name; throws InvalidInputError naming the valid ones. */
export function forecasterByName(name: string, options: RegistryOptions = {}): Forecaster {
  switch (name) {
    case 'seasonal-naive':
      return seasonalNaive();
    case 'mstl':
      return mstl();
    case 'auto-ets':
      return autoEts();
    case 'auto':
      return selectByBacktest([seasonalNaive(), mstl()], { horizonSteps: options.horizonSteps });
    default:
      throw new InvalidInputError('forecaster', `unknown model '${name}'; expected one of ${FORECASTER_NAMES.join(', ')}`);
  }
}
