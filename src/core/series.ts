/**
 * A regular time series: `values[i]` is the mean of the quantity over
 * [startSeconds + i*stepSeconds, startSeconds + (i+1)*stepSeconds).
 * Times are Unix epoch seconds (UTC).
 */
export interface Series {
  readonly startSeconds: number;
  readonly stepSeconds: number;
  readonly values: readonly number[];
}

/** Epoch seconds of the start of step `index`. */
export function timeAt(series: Series, index: number): number {
  return series.startSeconds + index * series.stepSeconds;
}

/** Index of the step that contains `timeSeconds` (may be out of range). */
export function indexAt(series: Series, timeSeconds: number): number {
  return Math.floor((timeSeconds - series.startSeconds) / series.stepSeconds);
}

/** The first `count` values of a series, as a new series (history up to a decision time). */
export function head(series: Series, count: number): Series {
  return { startSeconds: series.startSeconds, stepSeconds: series.stepSeconds, values: series.values.slice(0, count) };
}

/** Values in [fromIndex, toIndex), as a new series. */
export function slice(series: Series, fromIndex: number, toIndex: number): Series {
  const from = Math.max(0, fromIndex);
  return {
    startSeconds: series.startSeconds + from * series.stepSeconds,
    stepSeconds: series.stepSeconds,
    values: series.values.slice(from, Math.max(from, toIndex)),
  };
}

export function endSeconds(series: Series): number {
  return series.startSeconds + series.values.length * series.stepSeconds;
}
