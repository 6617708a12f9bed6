// Load generation with autocannon, from this (the runner's) process.
import autocannon from 'autocannon';
import { percentileOfSorted } from './stats.mjs';

/** The valid ID that half of the timed requests carry (as long as a generated one). */
export const SENT_ID = '9c1d1f5e-5d0c-4a8e-9b1e-2f3a4b5c6d7e';

/**
 * The request sequence every connection repeats. 'half': one request with a valid ID, then one
 * without (the ID must be generated): both paths, as between an edge service and internal ones.
 */
export function requestMix(mix) {
  const withId = { method: 'GET', path: '/', headers: { 'x-transaction-id': SENT_ID } };
  const withoutId = { method: 'GET', path: '/' };
  if (mix === 'with') return [withId];
  if (mix === 'without') return [withoutId];
  return [withId, withoutId];
}

/**
 * Sends load to `url`: `amount` requests, or for `duration` seconds. With `timings`, keeps every
 * response time (milliseconds, sub-millisecond precision) for exact percentiles. `onLast` runs
 * (synchronously) at the last response of an `amount` run: autocannon itself only notices it is
 * done at its next sampling tick, so measurements that must end with the load read there.
 */
export async function sendLoad({
  url,
  connections,
  amount,
  duration,
  mix,
  timings = false,
  onLast,
}) {
  let times = timings ? new Float64Array(amount ?? 65_536) : undefined;
  let count = 0;
  let timed = 0;
  let lastAt;
  const instance = autocannon({
    url,
    connections: amount !== undefined ? Math.min(connections, amount) : connections,
    ...(amount !== undefined ? { amount } : { duration }),
    requests: requestMix(mix),
    timeout: 30,
    // How often autocannon checks whether it is done (default 1 s).
    sampleInt: 100,
  });
  const started = process.hrtime.bigint();
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    count++;
    lastAt = process.hrtime.bigint();
    if (amount !== undefined && count === amount) onLast?.();
    if (!timings || statusCode < 200 || statusCode >= 300) return;
    if (timed === times.length) {
      const grown = new Float64Array(times.length * 2);
      grown.set(times);
      times = grown;
    }
    times[timed++] = responseTime;
  });
  const result = await instance;
  const elapsedSeconds = Number((lastAt ?? process.hrtime.bigint()) - started) / 1e9;

  const out = {
    completed: count,
    elapsedSeconds,
    // From the first request to the last response of this call: exact for short runs.
    reqPerSec: count / elapsedSeconds,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
  if (timings) {
    const sorted = times.subarray(0, timed).toSorted();
    out.latency = {
      count: timed,
      mean: sorted.reduce((sum, t) => sum + t, 0) / Math.max(1, timed),
      p50: percentileOfSorted(sorted, 50),
      p90: percentileOfSorted(sorted, 90),
      p99: percentileOfSorted(sorted, 99),
      max: sorted[timed - 1],
    };
  }
  return out;
}
