// Diagnostic: nats-bare whose gateway handler sends each NATS request inside an
// `AsyncLocalStorage.run()` of its own, without the library: what one async context per request
// costs the round trip by itself (on Node 24, a copy of the `AsyncContextFrame` per run).
import { AsyncLocalStorage } from 'node:async_hooks';
import { NO_ID } from './shared.mjs';
import { createRoundTrip } from './nats-bare.mjs';

const storage = new AsyncLocalStorage();

export function create(context) {
  return createRoundTrip(context, {
    reply: () => ({ id: NO_ID }),
    around: (send) => storage.run({ id: NO_ID }, send),
  });
}
