import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Loopback } from '../support/loopback.js';

const DIST = new URL('../../../dist/', import.meta.url);

/** A plain `<script type="module">` with an import map, as a page without a bundler uses it. */
const IMPORT_MAP_PAGE = `<!doctype html><link rel="icon" href="data:,">
<script type="importmap">{ "imports": { "nestjs-transaction-id/browser": "/dist/browser/index.js" } }</script>
<script type="module">
  import { getTransactionId, installTransactionId } from 'nestjs-transaction-id/browser';
  installTransactionId();
  await fetch('/answer?case=import-map');
  globalThis.fromImportMap = getTransactionId();
</script>`;

/** A request the harness server got. */
export interface HarnessRequest {
  path: string;
  headers: IncomingHttpHeaders;
}

/**
 * Serves a blank page with the harness bundle (esbuild, from the built dist/ through the package's
 * own name), and test endpoints on the same origin:
 * - `/answer?status=500`: answers that status and echoes `x-transaction-id`;
 * - `/answer?echo=other-id`: echoes another ID, as a server that did not trust the page;
 * - `/import-map.html`: the built `dist/` loaded as is, by an import map, without a bundler.
 */
export async function startHarnessServer(): Promise<Loopback & { requests: HarnessRequest[] }> {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./entry.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'warning',
  });
  const script = bundle.outputFiles[0].text;
  const requests: HarnessRequest[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    request.resume();
    if (url.pathname === '/') {
      response.writeHead(200, { 'content-type': 'text/html' });
      return void response.end(
        '<!doctype html><link rel="icon" href="data:,"><script type="module" src="/harness.js"></script>',
      );
    }
    if (url.pathname === '/import-map.html') {
      response.writeHead(200, { 'content-type': 'text/html' });
      return void response.end(IMPORT_MAP_PAGE);
    }
    const distFile = /^\/dist\/([\w/.-]+\.js)$/.exec(url.pathname)?.[1];
    if (distFile !== undefined && !distFile.includes('..')) {
      return void readFile(new URL(distFile, DIST), 'utf8').then(
        (code) => response.writeHead(200, { 'content-type': 'text/javascript' }).end(code),
        () => response.writeHead(404).end(),
      );
    }
    if (url.pathname === '/harness.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' });
      return void response.end(script);
    }
    requests.push({ path: request.url!, headers: request.headers });
    const echoed = url.searchParams.get('echo') ?? request.headers['x-transaction-id'];
    response.writeHead(Number(url.searchParams.get('status') ?? 200), {
      'content-type': 'application/json',
      ...(echoed !== undefined && { 'x-transaction-id': echoed }),
    });
    response.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
