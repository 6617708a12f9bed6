/**
 * `nestjs-transaction-id/browser` through Vite and webpack (esbuild and the import map are covered
 * by browser-entry.spec.ts and test/browser/helper.spec.ts): an app in a scratch directory imports
 * it BY NAME, through `node_modules/nestjs-transaction-id` linked to this repository, so the
 * package's own `exports` map is what resolves it (the built dist/: `npm run build` first). Each
 * bundle must build, import nothing from Node.js, Nest or Sentry, and work in Chromium; an app that
 * uses one function must get a bundle of a fraction of the size.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { build as viteBuild, type Rollup } from 'vite';
import webpack from 'webpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../browser/chromium.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The apps: one uses the helper as a page would, one imports a single function. */
const ENTRIES = {
  'full.js': `import { installTransactionId, getTransactionId, transactionIdIntegration } from 'nestjs-transaction-id/browser';
(async () => {
  installTransactionId();
  await fetch('/record');
  globalThis.bundled = { id: getTransactionId(), integration: transactionIdIntegration().name };
})();
`,
  'one.js': `import { getTransactionId } from 'nestjs-transaction-id/browser';
globalThis.bundled = { id: getTransactionId() };
`,
};
type Entry = keyof typeof ENTRIES;

let app: string;

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'browser-bundlers-'));
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(root, join(app, 'node_modules', 'nestjs-transaction-id'), 'dir');
  for (const [file, code] of Object.entries(ENTRIES)) writeFileSync(join(app, file), code);
});

afterAll(() => rmSync(app, { recursive: true, force: true }));

/** Vite's JS build API, library mode, minified, kept in memory. */
async function bundleWithVite(entry: Entry): Promise<string> {
  const output = (await viteBuild({
    root: app,
    configFile: false,
    logLevel: 'silent',
    mode: 'production',
    build: {
      write: false,
      minify: true,
      lib: { entry: join(app, entry), formats: ['es'], fileName: 'bundle' },
    },
  })) as Rollup.RollupOutput | Rollup.RollupOutput[];
  const chunks = (Array.isArray(output) ? output : [output]).flatMap((result) => result.output);
  const code = chunks.flatMap((chunk) => (chunk.type === 'chunk' ? [chunk.code] : []));
  expect(code).toHaveLength(1);
  return code[0]!;
}

/** webpack's Node API, production mode, a plain script for the web. */
async function bundleWithWebpack(entry: Entry): Promise<string> {
  const outDir = join(app, 'webpack-out');
  const compiler = webpack({
    mode: 'production',
    context: app,
    entry: `./${entry}`,
    target: 'web',
    output: { path: outDir, filename: entry },
    infrastructureLogging: { level: 'none' },
  });
  const stats = await new Promise<webpack.Stats>((resolve, reject) =>
    compiler.run((error, result) => (error ? reject(error) : resolve(result!))),
  );
  await new Promise<void>((resolve) => compiler.close(() => resolve()));
  expect(stats.hasErrors(), stats.toString('errors-only')).toBe(false);
  return readFileSync(join(outDir, entry), 'utf8');
}

const BUNDLERS = [
  { name: 'Vite', bundle: bundleWithVite, scriptType: 'module' },
  { name: 'webpack', bundle: bundleWithWebpack, scriptType: 'text/javascript' },
] as const;

/** A page on 127.0.0.1 that runs `script`, and records the headers of `/record` requests. */
async function servePage(script: string, scriptType: string) {
  const recorded: Array<string | undefined> = [];
  const server: Server = createServer((request, response) => {
    request.resume();
    if (request.url === '/') {
      response.writeHead(200, { 'content-type': 'text/html' });
      return void response.end(
        `<!doctype html><link rel="icon" href="data:,"><script type="${scriptType}" src="/bundle.js"></script>`,
      );
    }
    if (request.url === '/bundle.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' });
      return void response.end(script);
    }
    if (request.url === '/record') {
      recorded.push(request.headers['x-transaction-id'] as string | undefined);
      return void response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    recorded,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

describe.each(BUNDLERS)(
  'nestjs-transaction-id/browser bundled by $name',
  ({ bundle, scriptType }) => {
    let full: string;
    let one: string;

    beforeAll(async () => {
      full = await bundle('full.js');
      one = await bundle('one.js');
    }, 60_000);

    it('builds from the package name, with nothing from Node.js, Nest or Sentry in the bundle', () => {
      for (const code of [full, one]) {
        expect(code).not.toMatch(/["'`](node:|@nestjs\/|@sentry\/)/);
        expect(code).not.toMatch(/\brequire\(/);
      }
      // The helper is in it: the header it sets and the integration's name.
      expect(full).toContain('x-transaction-id');
      expect(full).toContain('TransactionId');
    });

    it('runs in Chromium: same-origin fetch carries the ID that getTransactionId() returns', async () => {
      const page = await browser.newPage();
      const server = await servePage(full, scriptType);
      try {
        const errors: string[] = [];
        page.on('pageerror', (error) => errors.push(error.message));
        await page.goto(`${server.origin}/`);
        await page.waitForFunction(() => 'bundled' in globalThis);
        const bundled = await page.evaluate(
          () => (globalThis as unknown as { bundled: { id: string; integration: string } }).bundled,
        );
        expect(errors).toEqual([]);
        expect(bundled.integration).toBe('TransactionId');
        expect(bundled.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(server.recorded).toEqual([bundled.id]);
      } finally {
        await page.close();
        await server.close();
      }
    });

    it('tree-shakes: one function bundles to well under half of the full use', () => {
      expect(one.length).toBeGreaterThan(0);
      expect(one.length).toBeLessThan(full.length / 2);
      expect(one).not.toContain('TransactionId');
    });
  },
);
