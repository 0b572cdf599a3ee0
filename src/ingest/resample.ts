import type { Series } from '../core/series.ts';
import type { Sample } from './csv.ts';

/** The typical spacing of samples, in seconds (the median gap). */
export function medianStepSeconds(samples: readonly Sample[]): number {
  const gaps: number[] = [];
  for (let i = 1; i < samples.length; i++) gaps.push(samples[i].timeSeconds - samples[i - 1].timeSeconds);
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)];
}

/**
 * Put irregular samples of a rate (e.g. requests per second) on a regular grid
 * of `stepSeconds` starting at `startSeconds`: each bucket is the mean of the
 * samples inside it; empty buckets are filled by linear interpolation between
 * the nearest filled buckets (and held flat at the ends). A grid finer than
 * the samples is thus interpolated, a coarser one averaged.
 */
export function toGrid(samples: readonly Sample[], startSeconds: number, stepSeconds: number, steps: number): Series {
  const sum = new Float64Array(steps);
  const count = new Uint32Array(steps);
  for (const s of samples) {
    const i = Math.floor((s.timeSeconds - startSeconds) / stepSeconds);
    if (i >= 0 && i < steps) {
      sum[i] += s.value;
      count[i]++;
    }
  }
  const values = new Array<number>(steps).fill(NaN);
  for (let i = 0; i < steps; i++) if (count[i] > 0) values[i] = sum[i] / count[i];
  // Empty buckets (a grid finer than the samples) are interpolated linearly
  // between the nearest filled buckets and held flat before the first and after the last.
  if (!values.some((v) => !Number.isNaN(v))) return { startSeconds, stepSeconds, values: values.fill(0) };
  let prev = -1;
  for (let i = 0; i <= steps; i++) {
    if (i < steps && Number.isNaN(values[i])) continue;
    if (prev < 0 && i < steps) {
      for (let k = 0; k < i; k++) values[k] = values[i];
    } else if (i === steps && prev >= 0) {
      for (let k = prev + 1; k < steps; k++) values[k] = values[prev];
    } else if (prev >= 0) {
      for (let k = prev + 1; k < i; k++) values[k] = values[prev] + ((values[i] - values[prev]) * (k - prev)) / (i - prev);
    }
    prev = i;
  }
  return { startSeconds, stepSeconds, values };
}
