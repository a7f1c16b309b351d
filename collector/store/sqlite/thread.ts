/**
 * Starting a worker thread on one of this program's own modules. From the compiled program (`dist/`) the
 * module is the `.js` file next to the caller. From the TypeScript sources (the tests) there is no `.js`
 * file: the starting thread transpiles the worker's modules once with the TypeScript compiler's
 * `transpileModule` (a development dependency; the compiled program never needs it), and the worker
 * registers module hooks that serve them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Module hooks for the sources: `./x.js` imported from a `.ts` file is `./x.ts`, whose JavaScript the
 * starting thread already produced (`sources`, by URL), so a worker neither loads the compiler nor
 * transpiles anything itself.
 */
const TS_HOOKS = `
let sources = {};
export function initialize(data) { sources = data.sources; }
export async function resolve(spec, ctx, next) {
  if (spec.startsWith('.') && spec.endsWith('.js') && ctx.parentURL && ctx.parentURL.endsWith('.ts')) {
    const url = new URL(spec.slice(0, -3) + '.ts', ctx.parentURL).href;
    if (Object.hasOwn(sources, url)) return { url, format: 'module', shortCircuit: true };
  }
  return next(spec, ctx);
}
export async function load(url, ctx, next) {
  if (Object.hasOwn(sources, url)) return { format: 'module', source: sources[url], shortCircuit: true };
  return next(url, ctx);
}
`;

const BOOT = `
import { register } from 'node:module';
import { workerData } from 'node:worker_threads';
register(workerData.__hooks, { data: { sources: workerData.__sources } });
await import(workerData.__entry);
`;

/** The module at `entry` (a `.ts` file) and every `.ts` module it imports relatively, as JavaScript by URL. */
const transpiled = new Map<string, Record<string, string>>();
function transpileGraph(entry: URL): Record<string, string> {
  const cached = transpiled.get(entry.href);
  if (cached) return cached;
  const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');
  const out: Record<string, string> = {};
  const queue = [entry.href];
  for (let url = queue.pop(); url !== undefined; url = queue.pop()) {
    if (Object.hasOwn(out, url)) continue;
    const file = fileURLToPath(url);
    const text = readFileSync(file, 'utf8');
    out[url] = ts.transpileModule(text, {
      fileName: file, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, inlineSourceMap: true },
    }).outputText;
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)) {
      const dep = new URL(`${m[1]!}.ts`, url);
      if (existsSync(fileURLToPath(dep))) queue.push(dep.href);
    }
  }
  transpiled.set(entry.href, out);
  return out;
}

const dataUrl = (source: string): URL => new URL(`data:text/javascript,${encodeURIComponent(source)}`);

/**
 * A worker on `entry` (a `.js` URL next to the calling module, e.g. `new URL('./x.js', import.meta.url)`).
 * `workerData` must be a plain object.
 */
export function startModuleWorker(entry: URL, options: WorkerOptions & { workerData: Record<string, unknown> }): Worker {
  if (existsSync(fileURLToPath(entry))) return new Worker(entry, options);
  const source = new URL(entry.href.replace(/\.js$/, '.ts'));
  if (!existsSync(fileURLToPath(source))) throw new Error(`worker module ${fileURLToPath(entry)} not found (nor its TypeScript source)`);
  return new Worker(dataUrl(BOOT), {
    ...options,
    workerData: { ...options.workerData, __hooks: dataUrl(TS_HOOKS).href, __sources: transpileGraph(source), __entry: source.href },
  });
}
