import { get as httpGet } from 'node:http';
import type { HttpService } from '@nestjs/axios';
import axios from 'axios';
import { firstValueFrom } from 'rxjs';
import * as undici from 'undici';

/**
 * One GET of `url` per client an application may already use, each as its users write it, with
 * no code for the transaction ID. Each resolves with the response body as text.
 */
export type ClientCall = (
  url: string,
  nestAxios: HttpService,
  headers?: Record<string, string>,
) => Promise<string>;

type GotCall = (
  url: string,
  options: { headers?: Record<string, string> },
) => { text(): Promise<string> };

/** got, or why it cannot load here (got 15 and later need Node.js 22): its tests then skip. */
const loaded = await import('got').then(
  (module) => ({ got: module.default as unknown as GotCall }),
  (error: unknown) => ({
    reason: `got cannot load on Node.js ${process.version}: ${String(error)}`,
  }),
);
const got = 'got' in loaded ? loaded.got : undefined;

/** Why got's tests are skipped on this Node.js, if they are. */
export const GOT_UNAVAILABLE = 'reason' in loaded ? loaded.reason : undefined;
if (GOT_UNAVAILABLE !== undefined)
  console.warn(`got is left out of these suites: ${GOT_UNAVAILABLE}`);

/** undici.request follows redirects only with its redirect interceptor. */
const redirectingAgent = new undici.Agent().compose(
  undici.interceptors.redirect({ maxRedirections: 3 }),
);

export const CLIENTS: Record<string, ClientCall> = {
  fetch: (url, _, headers) => fetch(url, { headers }).then((response) => response.text()),
  'undici.fetch': (url, _, headers) =>
    undici.fetch(url, { headers }).then((response) => response.text()),
  'undici.request': (url, _, headers) =>
    undici
      .request(url, { headers, dispatcher: redirectingAgent })
      .then((response) => response.body.text()),
  'node:http': (url, _, headers) =>
    new Promise((resolve, reject) => {
      httpGet(url, { headers }, (response) => {
        // node:http does not follow redirects: follow one, as an application would.
        const { location } = response.headers;
        if (response.statusCode === 302 && location !== undefined) {
          response.resume();
          const next = new URL(location, url);
          return void httpGet(next, { headers }, (last) => collect(last, resolve)).on(
            'error',
            reject,
          );
        }
        collect(response, resolve);
      }).on('error', reject);
    }),
  axios: (url, _, headers) =>
    axios.get<string>(url, { headers, responseType: 'text' }).then((response) => response.data),
  '@nestjs/axios': (url, nestAxios, headers) =>
    firstValueFrom(nestAxios.get<string>(url, { headers, responseType: 'text' })).then(
      (response) => response.data,
    ),
  got: (url, _, headers) => got!(url, { headers }).text(),
};

/** The clients that go through `node:http`, whose channel needs Node.js 22 or later. */
export const NODE_HTTP_CLIENTS = new Set(['node:http', 'axios', '@nestjs/axios', 'got']);

/** Whether this Node.js publishes `http.client.request.created` (22 and later). */
export const NODE_HTTP_FORWARDS = Number(process.versions.node.split('.')[0]) >= 22;

function collect(
  response: import('node:http').IncomingMessage,
  resolve: (body: string) => void,
): void {
  let body = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => (body += chunk));
  response.on('end', () => resolve(body));
}

/** The clients under test: got only where it loads (the warning above says why not). */
export const CLIENT_NAMES = Object.keys(CLIENTS).filter(
  (name) => name !== 'got' || GOT_UNAVAILABLE === undefined,
);
