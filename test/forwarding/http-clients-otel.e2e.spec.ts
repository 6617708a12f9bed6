import 'reflect-metadata';
import { register } from 'node:module';
import { isWrapped, registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer as Server } from '../http-client/support/local-server.js';

// OpenTelemetry's http and undici instrumentations beside the module's forwarding (no Sentry):
// every call carries OpenTelemetry's `traceparent` and the transaction ID, each exactly once.
// undici's instrumentation listens on the same diagnostics channels as the module; the http one
// patches `node:http`. In ESM that takes import-in-the-middle's loader hook, registered before
// `node:http` is imported (what OpenTelemetry's `--import` set-up does): without it a named
// import such as `import { get } from 'node:http'` keeps the unpatched function.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
const provider = new NodeTracerProvider(); // samples every trace by default
provider.register(); // W3C trace-context propagator, AsyncLocalStorage context manager
const unregister = registerInstrumentations({
  tracerProvider: provider,
  instrumentations: [new HttpInstrumentation(), new UndiciInstrumentation()],
});

const http = await import('node:http');
const { LocalServer } = await import('../http-client/support/local-server.js');
const { callThrough, startForwardingApp } = await import('./support/forwarding-app.js');
const { CLIENT_NAMES, NODE_HTTP_CLIENTS, NODE_HTTP_FORWARDS } =
  await import('./support/http-clients.js');

let downstream: Server;
let app: Awaited<ReturnType<typeof startForwardingApp>>;

beforeAll(async () => {
  downstream = await LocalServer.start();
  app = await startForwardingApp();
});

afterAll(async () => {
  await app?.close();
  await downstream?.close();
  unregister();
  await provider.shutdown();
});

describe.each(CLIENT_NAMES)('%s with OpenTelemetry instrumentation', (client) => {
  it.runIf(!NODE_HTTP_CLIENTS.has(client) || NODE_HTTP_FORWARDS)(
    'carries traceparent and x-transaction-id, each once',
    async () => {
      const id = `otel-${client.replace(/[^A-Za-z0-9.]+/g, '-')}`;

      await callThrough(app, client, downstream.url('/'), id);

      expect(downstream.headerLines('x-transaction-id')).toEqual([id]);
      const traceparent = downstream.headerLines('traceparent');
      expect(traceparent).toHaveLength(1);
      expect(traceparent[0]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    },
  );
});

it('runs with node:http patched by OpenTelemetry, named imports included', () => {
  expect(isWrapped(http.request)).toBe(true);
  expect(isWrapped(http.get)).toBe(true);
});
