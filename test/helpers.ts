/** Helpers shared by tests. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, vi } from 'vitest';

/** The error `fn` throws (fails the test if it throws none). */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

/**
 * Capture what the code under test writes to stdout and stderr in each test
 * of the enclosing suite (both reset before each test, restored after; a test
 * may reset them itself between two commands).
 */
export function captureOutput(): { stdout: string; stderr: string } {
  const out = { stdout: '', stderr: '' };
  beforeEach(() => {
    out.stdout = '';
    out.stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.stdout += String(chunk);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.stderr += String(chunk);
      return true;
    });
  });
  afterEach(() => vi.restoreAllMocks());
  return out;
}

/** A fresh directory under the system's temporary directory, named `headroom-<label>-…`. */
export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `headroom-${label}-`));
}

/** Writes each text to a new numbered file (`f0.<extension>`, `f1.…`) in a fresh temporary directory and returns its path. */
export function tempFileWriter(label: string, extension = 'yaml'): (text: string) => string {
  const dir = tempDir(label);
  let files = 0;
  return (text) => {
    const path = join(dir, `f${files++}.${extension}`);
    writeFileSync(path, text);
    return path;
  };
}
