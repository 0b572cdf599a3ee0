/**
 * Reading demand traces: timestamps in the accepted forms, every kind of bad
 * row (named by file, line and column), and putting irregular samples on a
 * regular grid. Expected numbers are worked out by hand in the comments.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidInputError, isUserError } from '../core/errors.ts';
import { parseSamplesCsv, parseTimestamp, readSamplesCsv, type Sample } from './csv.ts';
import { medianStepSeconds, toGrid } from './resample.ts';
import { thrown, tempDir } from '../../test/helpers.ts';

/** 2014-09-01 00:00:00 UTC: 16314 days after the epoch (44·365 + 11 leap days + 243 days of 2014) × 86400. */
const SEP_1_2014 = 1_409_529_600;


describe('parseTimestamp', () => {
  it.each([
    ['ISO 8601 with Z', '2014-09-01T00:00:00Z', SEP_1_2014],
    ['"YYYY-MM-DD HH:MM:SS", taken as UTC', '2014-09-01 00:00:00', SEP_1_2014],
    ['without seconds', '2014-09-01 00:00', SEP_1_2014],
    ['a later time of day', '2014-09-01 01:30:15', SEP_1_2014 + 3600 + 1800 + 15],
    ['fractional seconds', '2014-09-01T00:00:00.500Z', SEP_1_2014 + 0.5],
    ['a positive offset (02:00 at +02:00 is 00:00 UTC)', '2014-09-01T02:00:00+02:00', SEP_1_2014],
    ['a negative offset without colon', '2014-08-31T19:00:00-0500', SEP_1_2014],
    ['a bare date', '2014-09-01', SEP_1_2014],
    ['epoch seconds', '1409529600', SEP_1_2014],
    ['fractional epoch seconds, padded', ' 1409529600.25 ', SEP_1_2014 + 0.25],
  ])('%s: %j', (_label, text, expected) => {
    expect(parseTimestamp(text)).toBe(expected);
  });

  it.each(['', 'yesterday', '09/01/2014', '2014-09-01T00:00:00 UTC', '1e9'])('%j is not a timestamp (NaN)', (text) => {
    expect(parseTimestamp(text)).toBeNaN();
  });

  // Date.UTC would roll month 13, day 45 and hour 99 over into a real but wrong instant.
  it('rejects an impossible calendar date such as month 13', () => {
    expect(parseTimestamp('2014-13-45 99:99:99')).toBeNaN();
  });
});

describe('parseSamplesCsv: good files', () => {
  it('reads ISO and "YYYY-MM-DD HH:MM:SS" rows, CRLF endings, blank lines and extra columns, sorted by time', () => {
    const text = [
      'timestamp,value,host',
      '2014-09-01 00:10:00,3.5,a',
      '',
      '2014-09-01T00:00:00Z,1,b',
      '"2014-09-01 00:05:00",0,c',
      '',
    ].join('\r\n');
    expect(parseSamplesCsv(text, 'f.csv')).toEqual([
      { timeSeconds: SEP_1_2014, value: 1 },
      { timeSeconds: SEP_1_2014 + 300, value: 0 },
      { timeSeconds: SEP_1_2014 + 600, value: 3.5 },
    ]);
  });

  it('reads epoch seconds', () => {
    expect(parseSamplesCsv('timestamp,value\n1409529600,7\n1409529660,8\n', 'f.csv')).toEqual([
      { timeSeconds: SEP_1_2014, value: 7 },
      { timeSeconds: SEP_1_2014 + 60, value: 8 },
    ]);
  });

  it('uses the named columns, in any order, trimming header cells', () => {
    const samples = parseSamplesCsv('rps , ts\n5,1409529600\n6,1409529900\n', 'f.csv', { timestampColumn: 'ts', valueColumn: 'rps' });
    expect(samples.map((s) => [s.timeSeconds - SEP_1_2014, s.value])).toEqual([
      [0, 5],
      [300, 6],
    ]);
  });
});

describe('parseSamplesCsv: bad files, each named by file, line and column', () => {
  const HEAD = 'timestamp,value\n';
  const ROW1 = '2014-09-01 00:00:00,5\n';
  it.each([
    ['an empty file', '', 'f.csv: the file is empty; expected a header row such as "timestamp,value"'],
    ['a blank first line', '  \n0,1\n60,2\n', 'f.csv: the file is empty'],
    ['no timestamp column', 'time,value\n0,1\n', 'f.csv: no column named "timestamp" in the header (columns: "time", "value")'],
    ['no value column', 'timestamp,requests,host\n0,1,a\n', 'f.csv: no column named "value" in the header (columns: "timestamp", "requests", "host")'],
    ['a header but no rows', HEAD, 'f.csv: needs at least 2 samples, found 0'],
    ['a single row', HEAD + ROW1, 'f.csv: needs at least 2 samples, found 1'],
    ['an unparseable timestamp', HEAD + ROW1 + 'next tuesday,6\n', 'f.csv:3: column "timestamp": "next tuesday" is not a timestamp'],
    ['a row with too few cells', HEAD + ROW1 + '2014-09-01 00:05:00\n', 'f.csv:3: expected 2 columns, found 1'],
    ['NaN', HEAD + ROW1 + '2014-09-01 00:05:00,NaN\n', 'f.csv:3: column "value": "NaN" is not a finite number'],
    ['text', HEAD + ROW1 + '2014-09-01 00:05:00,abc\n', 'f.csv:3: column "value": "abc" is not a finite number'],
    ['an empty value', HEAD + ROW1 + '2014-09-01 00:05:00, \n', 'f.csv:3: column "value": "" is not a finite number'],
    ['Infinity', HEAD + ROW1 + '2014-09-01 00:05:00,Infinity\n', 'f.csv:3: column "value": "Infinity" is not a finite number'],
    ['a number that overflows', HEAD + ROW1 + '2014-09-01 00:05:00,1e400\n', 'f.csv:3: column "value": "1e400" is not a finite number'],
    ['a quoted thousands separator', HEAD + ROW1 + '2014-09-01 00:05:00,"1,000"\n', 'f.csv:3: column "value": "1,000" is not a finite number'],
    ['a negative value', HEAD + ROW1 + '2014-09-01 00:05:00,6\n2014-09-01 00:10:00,-7\n', 'f.csv:4: column "value": demand cannot be negative (-7)'],
    ['a bad row after a blank line (blank lines still count)', HEAD + ROW1 + '\n2014-09-01 00:05:00,-1\n', 'f.csv:4: column "value": demand cannot be negative (-1)'],
    ['a named value column', 'timestamp,rps\n0,1\n60,x\n', 'f.csv:3: column "rps": "x" is not a finite number', { valueColumn: 'rps' }],
    ['a duplicate timestamp', HEAD + ROW1 + '2014-09-01T00:00:00Z,6\n', 'f.csv: two samples at the same time 2014-09-01T00:00:00.000Z'],
    ['a duplicate timestamp, not adjacent', HEAD + '120,1\n0,2\n60,3\n120,4\n', 'f.csv: two samples at the same time 1970-01-01T00:02:00.000Z'],
  ] as const)('%s', (_label, text, message, options?: { valueColumn: string }) => {
    const e = thrown(() => parseSamplesCsv(text, 'f.csv', options));
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(isUserError(e)).toBe(true);
    expect(e.message.slice(0, message.length)).toBe(message);
  });

  it('an unparseable timestamp says which forms are accepted', () => {
    expect(thrown(() => parseSamplesCsv('timestamp,value\n0,1\n01/09/2014,2\n', 'f.csv')).message).toMatch(/ISO 8601.*YYYY-MM-DD HH:MM:SS.*epoch seconds/);
  });
});

describe('readSamplesCsv', () => {
  const dir = tempDir('csv');

  it('names a missing file', () => {
    const path = join(dir, 'absent.csv');
    const e = thrown(() => readSamplesCsv(path));
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e.message).toBe(`${path}: file not found`);
  });

  it('errors in a file name the path and the line', () => {
    const path = join(dir, 'neg.csv');
    writeFileSync(path, 'timestamp,value\n0,1\n60,2\n120,-3\n');
    expect(thrown(() => readSamplesCsv(path)).message).toBe(`${path}:4: column "value": demand cannot be negative (-3)`);
  });

  it('rejects a file over the size limit before parsing it', () => {
    const path = join(dir, 'big.csv');
    writeFileSync(path, 'timestamp,value\n0,1\n60,2\n'); // 16 + 4 + 5 = 25 bytes
    expect(thrown(() => readSamplesCsv(path, { maxBytes: 24 })).message).toBe(`${path}: file is 25 bytes, more than the limit of 24`);
    expect(readSamplesCsv(path, { maxBytes: 25 })).toHaveLength(2);
  });

  it('reads the bundled NYC taxi slice: 1008 half-hour samples from 2014-09-01 00:00:00', () => {
    const samples = readSamplesCsv(resolve(import.meta.dirname, '../../data/nab/nyc_taxi.csv'));
    expect(samples).toHaveLength(1008);
    expect(samples[0]).toEqual({ timeSeconds: SEP_1_2014, value: 14618 });
    expect(samples[1]).toEqual({ timeSeconds: SEP_1_2014 + 1800, value: 12908 });
    // 1008 half-hours = 21 days: the last sample is 2014-09-21 23:30:00.
    expect(samples[1007].timeSeconds).toBe(SEP_1_2014 + 1007 * 1800);
    expect(medianStepSeconds(samples)).toBe(1800);
  });
});

describe('medianStepSeconds', () => {
  const at = (...times: number[]): Sample[] => times.map((timeSeconds) => ({ timeSeconds, value: 1 }));

  it.each([
    ['regular', at(0, 300, 600, 900), 300],
    ['one long gap among short ones (gaps 60, 60, 180, 60)', at(0, 60, 120, 300, 360), 60],
    ['odd number of gaps (10, 30, 60)', at(0, 10, 40, 100), 30],
    ['even number of gaps takes the upper middle (10, 20, 40, 80)', at(0, 10, 30, 70, 150), 40],
  ])('%s', (_label, samples, expected) => {
    expect(medianStepSeconds(samples)).toBe(expected);
  });
});

describe('toGrid', () => {
  const s = (timeSeconds: number, value: number): Sample => ({ timeSeconds, value });

  it('averages samples per bucket, interpolates empty buckets, holds the end flat and drops samples off the grid', () => {
    // Grid: start 100, step 60, 6 buckets [100,160) [160,220) ... [400,460).
    const samples = [
      s(50, 999), //  before the grid: dropped
      s(100, 10), // bucket 0
      s(140, 20), // bucket 0 -> mean 15
      s(160, 26), // bucket 1 (on its left edge)
      s(170, 34), // bucket 1 -> mean 30
      s(340, 6), //  bucket 4
      s(460, 999), // first instant after the grid: dropped
    ];
    // Buckets 2, 3 lie between 30 (bucket 1) and 6 (bucket 4): 30 - 24/3 = 22, 30 - 2·24/3 = 14; bucket 5 holds 6.
    const grid = toGrid(samples, 100, 60, 6);
    expect(grid.startSeconds).toBe(100);
    expect(grid.stepSeconds).toBe(60);
    expect(grid.values).toEqual([15, 30, 22, 14, 6, 6]);
  });

  it('holds the first filled bucket flat back to the start', () => {
    expect(toGrid([s(130, 4), s(250, 8)], 0, 60, 5).values).toEqual([4, 4, 4, 6, 8]);
  });

  it('interpolates a coarse trace onto a finer grid (30-minute samples on 5-minute steps)', () => {
    // Buckets 0 and 6 hold the samples; 1..5 step by (18 - 12)/6 = 1.
    expect(toGrid([s(0, 12), s(1800, 18)], 0, 300, 7).values).toEqual([12, 13, 14, 15, 16, 17, 18]);
  });

  it('a grid with no sample in it is all zeros', () => {
    expect(toGrid([s(1000, 5), s(2000, 7)], 0, 10, 3).values).toEqual([0, 0, 0]);
  });
});
