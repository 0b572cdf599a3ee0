/**
 * Synchronous loading of the augurs WASM modules in Node. Each module is
 * instantiated once, on first use, from the .wasm file shipped beside its JS.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as etsModule from '@bsull/augurs/ets';
import * as mstlModule from '@bsull/augurs/mstl';

const require = createRequire(import.meta.url);

function wasmPath(subpath: string, wasmFile: string): string {
  return join(dirname(require.resolve(subpath)), wasmFile);
}

let etsReady = false;
let mstlReady = false;

/** The augurs ETS module, initialised. */
export function augursEts(): typeof etsModule {
  if (!etsReady) {
    etsModule.initSync({ module: readFileSync(wasmPath('@bsull/augurs/ets', 'ets_bg.wasm')) });
    etsReady = true;
  }
  return etsModule;
}

/** The augurs MSTL module, initialised. */
export function augursMstl(): typeof mstlModule {
  if (!mstlReady) {
    mstlModule.initSync({ module: readFileSync(wasmPath('@bsull/augurs/mstl', 'mstl_bg.wasm')) });
    mstlReady = true;
  }
  return mstlModule;
}

/** What augurs returns from predict(horizon, level). */
interface AugursForecast {
  point: number[];
  intervals?: { level: number; lower: number[]; upper: number[] } | undefined;
}

/** A Gaussian forecast path: mean and standard deviation per step (in the series' unit). */
export interface GaussianPath {
  readonly mean: number[];
  readonly sigma: number[];
}

const Z_975 = 1.959963984540054;

/**
 * Mean and per-step sigma from an augurs forecast with a 95% interval:
 * sigma = (upper − lower) / (2·z_0.975). augurs intervals are symmetric Gaussian.
 */
export function gaussianFromAugurs(forecast: AugursForecast): GaussianPath {
  const mean = forecast.point.slice();
  const iv = forecast.intervals;
  const sigma = mean.map((_, h) => (iv ? Math.max(0, (iv.upper[h] - iv.lower[h]) / (2 * Z_975)) : 0));
  return { mean, sigma };
}

/** The level used when asking augurs for intervals. */
export const AUGURS_LEVEL = 0.95;
