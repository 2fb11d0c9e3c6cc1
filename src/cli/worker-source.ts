import { fileURLToPath } from 'node:url';

/**
 * Where protect workers load their code from. A worker thread does not inherit the main thread's TypeScript
 * loader: registering tsx in each one and importing ~40 modules through its hooks took ~0.5 s of CPU per
 * worker (docs/CLI.md, throughput), as long as protecting ~200 MiB. So the worker is bundled once per run with
 * esbuild (tsx's own compiler, ~0.15 s) into one ES module handed over as a data: URL (nothing written to
 * disk); it starts in ~0.1 s. Without esbuild the tsx boot (worker-boot.mjs) still works.
 */
let pending: Promise<URL> | undefined;

/** Bundles the worker (exported for bench:cli, which times it; the pool uses `protectWorkerUrl`). */
export async function bundleProtectWorker(): Promise<URL> {
  const { build } = await import('esbuild');
  const entry = fileURLToPath(new URL('./protect-worker.ts', import.meta.url));
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    // Bundled CommonJS dependencies call require(); a data: module has none of its own.
    banner: { js: `import { createRequire as __ehrvRequire } from 'node:module'; const require = __ehrvRequire(${JSON.stringify(entry)});` },
  });
  const code = result.outputFiles[0]!.contents;
  return new URL(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
}

/** The tsx boot: slower to start, needs nothing but tsx (a dependency). */
export const TSX_WORKER_URL = new URL('./worker-boot.mjs', import.meta.url);

/** `EHRV_WORKER_BUNDLE=0` skips the bundle (an escape hatch should esbuild misbehave on some machine). */
export function protectWorkerUrl(env: NodeJS.ProcessEnv = process.env): Promise<URL> {
  if (env.EHRV_WORKER_BUNDLE === '0') return Promise.resolve(TSX_WORKER_URL);
  pending ??= bundleProtectWorker().catch(() => TSX_WORKER_URL);
  return pending;
}
