// `node bench/browser-size.mjs`: the size `nestjs-transaction-id/browser` adds to a front-end
// bundle, minified (esbuild) and gzipped (zlib, level 9), from the built dist/ (`npm run build`).
// Measured as an app imports it, so that tree-shaking keeps only what is used.
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** What an app imports, per case. */
export const BROWSER_SIZE_CASES = {
  'without Sentry': `export { getTransactionId, startNewTransaction, installTransactionId, transactionIdOf, requestFailure } from 'nestjs-transaction-id/browser';`,
  'the integration for Sentry': `export { startNewTransaction, transactionIdIntegration, transactionIdOf, requestFailure } from 'nestjs-transaction-id/browser';`,
  'everything it exports': `export * from 'nestjs-transaction-id/browser';`,
  'imported, nothing used': `import 'nestjs-transaction-id/browser';`,
};

/** Minified and gzipped bytes of each case, and the minified code. */
export async function measureBrowserSize() {
  const sizes = {};
  for (const [name, contents] of Object.entries(BROWSER_SIZE_CASES)) {
    const result = await build({
      stdin: { contents, resolveDir: root, loader: 'js' },
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
    });
    const code = result.outputFiles[0].contents;
    sizes[name] = {
      minified: code.length,
      gzipped: code.length === 0 ? 0 : gzipSync(code, { level: 9 }).length,
      code: result.outputFiles[0].text,
    };
  }
  return sizes;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = await measureBrowserSize();
  console.log('nestjs-transaction-id/browser, esbuild --minify, then gzip -9 (bytes):');
  for (const [name, { minified, gzipped }] of Object.entries(sizes)) {
    console.log(
      `  ${name.padEnd(28)} ${String(minified).padStart(6)} min  ${String(gzipped).padStart(6)} gzip`,
    );
  }
}
