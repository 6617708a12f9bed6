import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A server on 127.0.0.1 and a random port, with its origin. */
export interface Loopback {
  readonly origin: string;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closer(server: Server): () => Promise<void> {
  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

/** A request as a third-party server saw it. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/**
 * A third party on another loopback origin that records every request it gets. Its CORS lets any
 * page send any header: if the browser helper leaked the ID here, nothing would stop it.
 */
export async function startRecorder(): Promise<Loopback & { requests: RecordedRequest[] }> {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    requests.push({ method: request.method!, url: request.url!, headers: request.headers });
    response.setHeader('access-control-allow-origin', request.headers.origin ?? '*');
    const asked = request.headers['access-control-request-headers'];
    if (asked) response.setHeader('access-control-allow-headers', asked);
    response.setHeader('access-control-allow-methods', 'GET, POST');
    request.resume();
    request.on('end', () => response.end('{}'));
  });
  const origin = await listen(server);
  return { origin, requests, close: closer(server) };
}

/** What a page served by `startPageHost()` is told (sample/web/main.ts, `SampleConfig`). */
export interface PageConfig {
  dsn: string;
  apiUrl: string;
  propagationTargets: string[];
}

/**
 * Hosts the built sample page (sample/dist/web) on its own loopback origin, as a static host would:
 * `/<variant>/` serves it with the config of that variant.
 */
export async function startPageHost(
  webDir: URL,
  variants: () => Record<string, PageConfig>,
): Promise<Loopback> {
  const server = createServer((request, response) => {
    const [, variant, file] = /^\/([\w-]+)\/([\w.]*)/.exec(request.url ?? '') ?? [];
    const config = variant === undefined ? undefined : variants()[variant];
    const send = (type: string, body: string) =>
      response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    if (config === undefined) return void response.writeHead(404).end();
    if (file === '' || file === 'index.html') {
      void readFile(new URL('index.html', webDir), 'utf8').then((html) => send('text/html', html));
    } else if (file === 'main.js') {
      void readFile(new URL('main.js', webDir), 'utf8').then((js) => send('text/javascript', js));
    } else if (file === 'config.js') {
      send('text/javascript', `globalThis.sampleConfig = ${JSON.stringify(config)};`);
    } else {
      response.writeHead(404).end();
    }
  });
  const origin = await listen(server);
  return { origin, close: closer(server) };
}
