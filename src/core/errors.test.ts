import { describe, expect, it } from 'vitest';
import { InfeasibleError, firstProblems } from './errors.ts';

describe('firstProblems', () => {
  const problems = (n: number) => Array.from({ length: n }, (_, i) => `problem ${i}`);

  it('keeps a short list as it is', () => {
    expect(firstProblems(problems(10))).toEqual(problems(10));
    expect(firstProblems([])).toEqual([]);
  });

  it('lists the first ones and counts the rest, in the singular for one', () => {
    expect(firstProblems(problems(11))).toEqual([...problems(10), '… and 1 more problem']);
    expect(firstProblems(problems(25), 3)).toEqual(['problem 0', 'problem 1', 'problem 2', '… and 22 more problems']);
  });

  it('describes only the problems it shows', () => {
    const described: number[] = [];
    expect(firstProblems([1, 2, 3, 4], 2, (n) => (described.push(n), `#${n}`))).toEqual(['#1', '#2', '… and 2 more problems']);
    expect(described).toEqual([1, 2]);
  });

  it('reads as part of an infeasibility message', () => {
    expect(new InfeasibleError('no plan', firstProblems(problems(12))).message).toMatch(/- problem 9\n {2}- … and 2 more problems$/);
  });
});
