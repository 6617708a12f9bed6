import type { TransportCarrier } from '../transport-carrier.js';
import { sameHeaderName } from '../../utils/header-name.js';

/**
 * NATS message headers (`MsgHdrs` of `@nats-io/transport-node`), as far as the carrier uses them:
 * iterated as `[name, values]` pairs, which lists each value once, without the arrays `keys()`
 * and `values()` build per call.
 */
interface NatsHeaders extends Iterable<[string, string[]]> {
  append(key: string, value: string): void;
  /** `MsgHdrsImpl#headers`, public: each name with its values. */
  readonly headers?: unknown;
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
    if (typeof headers?.[Symbol.iterator] !== 'function') return undefined;
    let found: string | null | undefined;
    for (const [key, values] of headers) {
      if (!sameHeaderName(key, header)) continue;
      for (const value of values) {
        if (found !== undefined) return null;
        found = value;
      }
    }
    return found;
  },

  forward(client, header, currentId) {
    const merge = client.mergeHeaders;
    let withId: ((id: string) => NatsHeaders | undefined) | undefined;
    client.mergeHeaders = function mergeHeaders(this: NatsClient, requestHeaders?: NatsHeaders) {
      const headers = merge.call(this, requestHeaders);
      const id = currentId(client);
      if (id === undefined || (headers !== undefined && hasName(headers, header))) return headers;
      if (headers === undefined) return (withId ??= headersWithId(merge, header))(id);
      // Empty headers made the way the client makes them, from the `@nats-io/transport-node` it
      // loaded itself: the library never resolves that package on its own.
      const result = merge.call(MAKES_EMPTY_HEADERS, undefined);
      if (result === undefined) return headers;
      for (const [key, values] of headers) {
        for (const value of values) result.append(key, value);
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

/**
 * What `ClientNats#mergeHeaders()` is called on to make empty headers: a client whose `headers`
 * option is empty. Made once; the method only reads it.
 */
const MAKES_EMPTY_HEADERS = { options: { headers: {} } } as unknown as NatsClient;

/**
 * Makes headers holding only `header: id`, of the `@nats-io/transport-node` the client loaded
 * itself (the library never resolves that package on its own): its `MsgHdrsImpl`, whose public
 * `headers` map takes the value as it is. `append()` would check the name and the value again and
 * canonicalise the name on every message; both are checked once already (the header option when
 * the module starts, every ID by the policy: printable ASCII, never CR or LF).
 */
function headersWithId(
  merge: NatsClient['mergeHeaders'],
  header: string,
): (id: string) => NatsHeaders | undefined {
  const sample = merge.call(MAKES_EMPTY_HEADERS, undefined);
  if (sample === undefined) return () => undefined;
  const Headers = sample.constructor as new () => NatsHeaders;
  if (!(sample.headers instanceof Map) || !(new Headers().headers instanceof Map)) {
    // Not the `MsgHdrsImpl` this was written against: its own way.
    return (id) => {
      const headers = merge.call(MAKES_EMPTY_HEADERS, undefined)!;
      headers.append(header, id);
      return headers;
    };
  }
  return (id) => {
    const headers = new Headers();
    (headers.headers as Map<string, string[]>).set(header, [id]);
    return headers;
  };
}

/** Whether `headers` has `header` under any spelling. */
function hasName(headers: NatsHeaders, header: string): boolean {
  for (const [key] of headers) {
    if (sameHeaderName(key, header)) return true;
  }
  return false;
}
