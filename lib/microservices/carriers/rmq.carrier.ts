import type { TransportCarrier } from '../transport-carrier.js';
import { hasHeader, readHeaderRecord } from './header-values.js';

/** The parts of `RmqContext` the carrier uses. */
interface RmqContextLike {
  getMessage(): { properties?: { headers?: unknown } } | undefined;
}

/** The parts of `ClientRMQ` the carrier uses. */
interface RmqClient {
  readonly options?: { urls?: unknown[] };
  mergeHeaders(requestHeaders?: Record<string, unknown>): Record<string, unknown> | undefined;
}

/**
 * RabbitMQ: a message header (`properties.headers`). A value may arrive as an array; only one
 * element is one ID. Outgoing, `ClientRMQ#mergeHeaders()` (which merges the client's `headers`
 * option with each message's own) also adds the ID, unless a `RmqRecordBuilder` record's headers
 * or the client's option have the header under any spelling: those win. Nest's merge returns a
 * new object, so a record is never changed.
 */
export const rmqCarrier: TransportCarrier<RmqContextLike, RmqClient> = {
  transport: 'rmq',
  transportId: 5, // Transport.RMQ
  client: 'ClientRMQ',

  read: (context, header) => readHeaderRecord(context.getMessage()?.properties?.headers, header),

  forward(client, header, currentId) {
    const merge = client.mergeHeaders;
    client.mergeHeaders = function mergeHeaders(this: RmqClient, requestHeaders) {
      const headers = merge.call(this, requestHeaders);
      const id = currentId(client);
      if (id === undefined || hasHeader(headers, header)) return headers;
      return { ...headers, [header]: id };
    };
  },

  target: ({ options }) => {
    const url = options?.urls?.[0];
    return typeof url === 'string' ? url : 'amqp://localhost:5672';
  },
};
