// Correctness pre-check: before a server is timed, it must do its job right under concurrency, so
// that no variant is fast because it is wrong.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { SENT_ID } from './load.mjs';

const HEADER = 'x-transaction-id';
const NO_ID = '00000000-0000-4000-8000-000000000000';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Requests of the check, by what they carry. */
const PLAN = [
  ...Array.from({ length: 140 }, () => 'valid'),
  ...Array.from({ length: 40 }, () => 'none'),
  ...Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'invalid' : 'too-long')),
];

function get(agent, url, headers, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode, headers: response.headers, body }),
      );
    });
    request.setTimeout(timeoutMs, () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}

/**
 * Sends 200 concurrent requests to `GET /check` (valid IDs, none, invalid ones) and one to the timed
 * route, and verifies every answer against what the variant must do (`variant.expect`). Resolves
 * with `{ ok, requests, failures: string[] }` (at most 5 failures listed). `timeoutMs`: per request
 * (default 30 s; a cold server under valgrind on a busy machine needs more).
 */
export async function checkServer(baseUrl, variant, { timeoutMs } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: PLAN.length });
  const failures = [];
  const fail = (message) => {
    if (failures.length < 5) failures.push(message);
  };
  const tagged = variant.sentry !== 'none' && variant.expect !== 'none';
  const generated = new Set();

  try {
    const results = await Promise.all(
      PLAN.map(async (kind, index) => {
        const sent =
          kind === 'valid'
            ? `chk-${index}-${randomUUID().slice(0, 8)}`
            : kind === 'invalid'
              ? `bad id ${index}!`
              : kind === 'too-long'
                ? 'x'.repeat(129)
                : undefined;
        const response = await get(
          agent,
          `${baseUrl}/check`,
          sent === undefined ? {} : { [HEADER]: sent },
          timeoutMs,
        );
        return { kind, sent, response };
      }),
    );
    for (const { kind, sent, response } of results) {
      const where = `${kind} ${JSON.stringify(sent ?? null)}`;
      if (response.status !== 200) {
        fail(`${where}: status ${response.status} ${response.body.slice(0, 200)}`);
        continue;
      }
      let body;
      try {
        body = JSON.parse(response.body);
      } catch {
        fail(`${where}: body is not JSON: ${response.body.slice(0, 200)}`);
        continue;
      }
      const echoed = response.headers[HEADER];
      if (variant.expect === 'none') {
        if (body.id !== NO_ID) fail(`${where}: body id ${body.id}, expected the fixed ${NO_ID}`);
        if (echoed !== undefined) fail(`${where}: unexpected echo header ${echoed}`);
        if (body.tag !== null) fail(`${where}: unexpected Sentry tag ${body.tag}`);
        continue;
      }
      const expected = kind === 'valid' ? sent : body.id;
      if (kind !== 'valid') {
        if (typeof body.id !== 'string' || !UUID.test(body.id)) {
          fail(`${where}: expected a generated UUID, handler saw ${body.id}`);
          continue;
        }
        if (generated.has(body.id)) fail(`${where}: generated ID ${body.id} seen twice`);
        generated.add(body.id);
      } else if (body.id !== sent) {
        fail(`${where}: handler saw ${body.id}`);
      }
      if (echoed !== expected) fail(`${where}: echo header ${echoed}, expected ${expected}`);
      if (tagged && body.tag !== expected)
        fail(`${where}: Sentry tag ${body.tag}, expected ${expected}`);
      if (!tagged && body.tag !== null) fail(`${where}: unexpected Sentry tag ${body.tag}`);
      if (variant.expect === 'out' && body.downstream !== expected) {
        fail(`${where}: downstream received ${body.downstream}, expected ${expected}`);
      }
    }

    // The timed route itself, with the ID that the load sends.
    const timed = await get(agent, `${baseUrl}/`, { [HEADER]: SENT_ID }, timeoutMs);
    const body = timed.status === 200 ? JSON.parse(timed.body) : {};
    const wanted = variant.expect === 'none' ? NO_ID : SENT_ID;
    if (timed.status !== 200 || body.id !== wanted) {
      fail(`timed route: status ${timed.status}, body ${timed.body.slice(0, 200)}`);
    }
    if (variant.expect === 'out' && body.downstream !== SENT_ID) {
      fail(`timed route: downstream received ${body.downstream}`);
    }
  } catch (error) {
    fail(`request failed: ${error.message}`);
  } finally {
    agent.destroy();
  }
  return { ok: failures.length === 0, requests: PLAN.length + 1, failures };
}
