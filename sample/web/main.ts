// The shop's front end: Sentry's browser SDK with the transaction ID integration, and a "Place
// order" button. Bundled by esbuild (sample/web/build.mjs) into sample/dist/web/main.js.
import * as Sentry from '@sentry/browser';
import {
  getTransactionId,
  requestFailure,
  startNewTransaction,
  transactionIdIntegration,
  transactionIdOf,
} from 'nestjs-transaction-id/browser';

/** Set by config.js, which the gateway serves from its environment. */
interface SampleConfig {
  /** The browser's Sentry project; Spotlight's local endpoint when empty. */
  dsn?: string;
  /** Where the gateway is: '' for this page's own origin. */
  apiUrl: string;
  /** Other origins that may receive the transaction ID (the API's, when it is elsewhere). */
  propagationTargets: string[];
}

const config: SampleConfig = (globalThis as { sampleConfig?: SampleConfig }).sampleConfig ?? {
  apiUrl: '',
  propagationTargets: [],
};
/** Spotlight takes envelopes posted as to a Sentry project; any project ID will do. */
const SPOTLIGHT_DSN = 'http://spotlight@localhost:8969/0';

Sentry.init({
  dsn: config.dsn || SPOTLIGHT_DSN,
  environment: 'development',
  integrations: (defaults) => [
    // As in the services: Dedupe would drop a failure that repeats, whatever its transaction_id.
    ...defaults.filter((integration) => integration.name !== 'Dedupe'),
    transactionIdIntegration({ propagationTargets: config.propagationTargets }),
  ],
});

const button = document.querySelector<HTMLButtonElement>('#place-order')!;
const status = document.querySelector<HTMLElement>('#status')!;
// `?client=xhr` places the order with XMLHttpRequest (as axios does in browsers) instead of fetch.
const post =
  new URLSearchParams(location.search).get('client') === 'xhr' ? postWithXhr : postWithFetch;

button.addEventListener('click', () => void placeOrder());

async function placeOrder(): Promise<void> {
  // One click, one transaction: its requests and errors share a new ID.
  startNewTransaction();
  status.className = '';
  status.textContent = 'Placing your order…';
  try {
    const { order } = (await post(`${config.apiUrl}/checkout`, {
      lines: [{ sku: 'teapot', quantity: 1 }],
    })) as { order: { id: string } };
    status.textContent = `Order ${order.id} placed.`;
  } catch (error) {
    status.className = 'failed';
    status.textContent = `Something went wrong — reference ${transactionIdOf(error) ?? getTransactionId()}`;
    // Left uncaught, as apps often do: the SDK already reported this very error, so its global
    // handler sends nothing more.
    throw error;
  }
}

async function postWithFetch(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  // The failure the integration reported, rather than a new error that would be reported again.
  if (!response.ok) throw requestFailure(response) ?? new Error(`status ${response.status}`);
  return response.json();
}

function postWithXhr(url: string, body: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('content-type', 'application/json');
    xhr.responseType = 'json';
    xhr.addEventListener('loadend', () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
      else reject(requestFailure(xhr) ?? new Error(`status ${xhr.status}`));
    });
    xhr.send(JSON.stringify(body));
  });
}
