/**
 * Starting a worker thread on one of this program's own modules. From the compiled program (`dist/`) the
 * module is the `.js` file next to the caller. From the TypeScript sources (the tests) there is no `.js`
 * file: the worker then first registers module hooks that load `.ts` files through the TypeScript
 * compiler's `transpileModule` (a development dependency; the compiled program never needs it).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** Module hooks for the sources: `./x.js` imported from a `.ts` file is `./x.ts`, transpiled on load. */
const TS_HOOKS = `
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
let tsUrl;
let ts;
export function initialize(data) { tsUrl = data.typescript; }
export async function resolve(spec, ctx, next) {
  if (spec.startsWith('.') && spec.endsWith('.js') && ctx.parentURL && ctx.parentURL.endsWith('.ts')) {
    const url = new URL(spec.slice(0, -3) + '.ts', ctx.parentURL);
    if (existsSync(fileURLToPath(url))) return { url: url.href, format: 'module', shortCircuit: true };
  }
  return next(spec, ctx);
}
export async function load(url, ctx, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, ctx);
  ts ??= (await import(tsUrl)).default;
  const file = fileURLToPath(url);
  const out = ts.transpileModule(readFileSync(file, 'utf8'), {
    fileName: file, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, inlineSourceMap: true },
  });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
`;

const BOOT = `
import { register } from 'node:module';
import { workerData } from 'node:worker_threads';
register(workerData.__hooks, { data: { typescript: workerData.__typescript } });
await import(workerData.__entry);
`;

const dataUrl = (source: string): URL => new URL(`data:text/javascript,${encodeURIComponent(source)}`);

/**
 * A worker on `entry` (a `.js` URL next to the calling module, e.g. `new URL('./x.js', import.meta.url)`).
 * `workerData` must be a plain object.
 */
export function startModuleWorker(entry: URL, options: WorkerOptions & { workerData: Record<string, unknown> }): Worker {
  if (existsSync(fileURLToPath(entry))) return new Worker(entry, options);
  const source = new URL(entry.href.replace(/\.js$/, '.ts'));
  if (!existsSync(fileURLToPath(source))) throw new Error(`worker module ${fileURLToPath(entry)} not found (nor its TypeScript source)`);
  const typescript = pathToFileURL(createRequire(import.meta.url).resolve('typescript')).href;
  return new Worker(dataUrl(BOOT), {
    ...options,
    workerData: { ...options.workerData, __hooks: dataUrl(TS_HOOKS).href, __typescript: typescript, __entry: source.href },
  });
}
