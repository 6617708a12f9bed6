// Bundles the shop's page with esbuild: sample/web → sample/dist/web (index.html, main.js).
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const from = (path) => fileURLToPath(new URL(path, import.meta.url));

/** Builds the page; `nestjs-transaction-id/browser` resolves to the built dist/ of this repository. */
export async function buildWeb() {
  mkdirSync(from('../dist/web'), { recursive: true });
  await build({
    entryPoints: [from('main.ts')],
    outfile: from('../dist/web/main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  });
  copyFileSync(from('index.html'), from('../dist/web/index.html'));
}
