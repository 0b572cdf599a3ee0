/** How the optimizer names things in messages meant for people (diagnoses, explanations). */

/** 'a', 'b', 'c' */
export const quoteList = (names: readonly string[]): string => names.map((n) => `'${n}'`).join(', ');

/** "1500m CPU" */
export const cpuText = (cpuMillicores: number): string => `${Math.round(cpuMillicores)}m CPU`;

/** "2048 MiB memory" */
export const memoryText = (memoryMiB: number): string => `${Math.round(memoryMiB)} MiB memory`;

/** Sorted step indices as ranges: [3, 4, 5, 9] → "steps 3–5, 9"; [] → "". */
export function stepRanges(steps: readonly number[]): string {
  if (steps.length === 0) return '';
  const parts: string[] = [];
  let i = 0;
  while (i < steps.length) {
    let j = i;
    while (j + 1 < steps.length && steps[j + 1] === steps[j] + 1) j++;
    parts.push(i === j ? `${steps[i]}` : `${steps[i]}–${steps[j]}`);
    i = j + 1;
  }
  return `step${steps.length > 1 ? 's' : ''} ${parts.join(', ')}`;
}
