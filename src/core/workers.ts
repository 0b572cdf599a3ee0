/**
 * Worker threads running this TypeScript source tree (or its compiled build):
 * the one place that knows how a worker loads `.ts` modules.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** tsx's ESM register API (vitest's import.meta lacks resolve; tsx ships the ESM build beside the CJS one). */
function tsxApiUrl(): string {
  if (typeof import.meta.resolve === 'function') return import.meta.resolve('tsx/esm/api');
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
}

/**
 * A worker for the module at `url`. One of the TypeScript source tree registers
 * tsx's loader in its own thread first (on Node 20 the hooks of the tsx CLI or
 * of vitest do not reach workers, nor does `--import` in a worker's execArgv);
 * a compiled tree's `.js` module is loaded directly.
 */
export function startWorker(url: URL): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url);
  const bootstrap = `import(${JSON.stringify(tsxApiUrl())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { eval: true });
}

/** The URL of a sibling module, `.ts` in the source tree and `.js` in a compiled one. */
export function siblingModule(name: string, importMetaUrl: string): URL {
  return new URL(importMetaUrl.endsWith('.ts') ? `./${name}.ts` : `./${name}.js`, importMetaUrl);
}
