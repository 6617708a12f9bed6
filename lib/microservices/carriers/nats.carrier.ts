import type { TransportCarrier } from '../transport-carrier.js';
import { sameName } from './header-values.js';

/** NATS message headers (`MsgHdrs` of `@nats-io/transport-node`), as far as the carrier uses them. */
interface NatsHeaders {
  keys(): string[];
  values(key: string): string[];
  append(key: string, value: string): void;
}

/** The parts of `NatsContext` the carrier uses. */
interface NatsContextLike {
  getHeaders(): NatsHeaders | undefined;
}

/** The parts of `ClientNats` the carrier uses. */
interface NatsClient {
  readonly options?: { servers?: string | string[] };
  mergeHeaders(requestHeaders?: NatsHeaders): NatsHeaders | undefined;
}

/**
 * NATS: a message header. `NatsContext#getHeaders().get()` matches names exactly; a sender may
 * have written the name in any case, so every spelling is looked at, and more than one value is
 * ambiguous. Outgoing, `ClientNats#mergeHeaders()` (which already adds the client's `headers`
 * option to each message's) also adds the ID, unless the message's own headers (a
 * `NatsRecordBuilder` record) or the client's option have the header under any spelling: those
 * win. A record's headers are copied, never changed: a record may be sent again later.
 */
export const natsCarrier: TransportCarrier<NatsContextLike, NatsClient> = {
  transport: 'nats',
  transportId: 2, // Transport.NATS
  client: 'ClientNats',

  read(context, header) {
    const headers = context.getHeaders();
    if (headers === undefined || headers === null || typeof headers.keys !== 'function') {
      return undefined;
    }
    const values: string[] = [];
    for (const key of headers.keys()) {
      if (sameName(key, header)) values.push(...headers.values(key));
    }
    if (values.length === 0) return undefined;
    return values.length === 1 ? values[0] : null;
  },

  forward(client, header, currentId) {
    const merge = client.mergeHeaders;
    // Empty headers made the way the client makes them, from the `@nats-io/transport-node` it
    // loaded itself: the library never resolves that package on its own.
    const fresh = () =>
      merge.call({ options: { headers: {} } } as unknown as NatsClient, undefined);
    client.mergeHeaders = function mergeHeaders(this: NatsClient, requestHeaders?: NatsHeaders) {
      const headers = merge.call(this, requestHeaders);
      const id = currentId(client);
      if (id === undefined || headers?.keys().some((key) => sameName(key, header))) return headers;
      const result = fresh();
      if (result === undefined) return headers;
      if (headers !== undefined) {
        for (const key of headers.keys()) {
          for (const value of headers.values(key)) result.append(key, value);
        }
      }
      result.append(header, id);
      return result;
    };
  },

  target: ({ options }) => {
    const servers = options?.servers;
    const first = Array.isArray(servers) ? servers[0] : servers;
    if (typeof first !== 'string') return 'nats://localhost:4222';
    return first.includes('://') ? first : `nats://${first}`;
  },
};
