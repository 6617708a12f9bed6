import type { TransportCarrier } from '../transport-carrier.js';
import { sameHeaderName } from '../../utils/header-name.js';

/** A Kafka record header value, as kafkajs and Nest's `KafkaParser` give it. */
type HeaderValue = unknown;

/** The part of `KafkaContext` the carrier reads. */
interface KafkaMessageContext {
  getMessage(): { headers?: Record<string, HeaderValue> | null } | undefined;
}

/** What a Kafka serializer returns: a kafkajs `Message`, whose headers reach the broker. */
interface SerializedRecord {
  headers?: Record<string, HeaderValue> | null;
}

/** The parts of `ClientKafka` the carrier uses. */
interface KafkaClient {
  serializer: { serialize(value: unknown, options?: unknown): unknown };
  readonly brokers?: unknown;
}

/**
 * Kafka: a record header. `ClientKafka` serialises every message (`send()`, `emit()`, batches)
 * into a kafkajs record with headers; the carrier adds its header there, after the application's
 * serializer, so a consumer without the library gets exactly the key and value it was sent.
 * Kafka header names are case-sensitive bytes: a header the sender set in any case wins.
 */
export const kafkaCarrier: TransportCarrier<KafkaMessageContext, KafkaClient> = {
  transport: 'kafka',
  transportId: 6, // Transport.KAFKA
  client: 'ClientKafka',
  read: (context, header) => readHeader(context.getMessage()?.headers, header),
  forward: (client, header, currentId) => {
    const serializer = client.serializer;
    client.serializer = {
      serialize(value, options) {
        // Asked before serialising: the message belongs to the work that sends it now.
        const id = currentId(client);
        const record = serializer.serialize(value, options);
        if (id === undefined) return record;
        return isPromise(record)
          ? record.then((resolved) => withHeader(resolved, header, id))
          : withHeader(record, header, id);
      },
    };
  },
  target: (client) => {
    const brokers = client.brokers;
    return Array.isArray(brokers) && typeof brokers[0] === 'string'
      ? `kafka://${brokers[0]}`
      : undefined;
  },
};

/**
 * The ID in a record's headers, whose names are matched in any case: `null` when several headers
 * or values carry one. Nest's parser turns a repeated header (a kafkajs array) into its values
 * joined by ",", which the ID grammar refuses.
 */
function readHeader(
  headers: Record<string, HeaderValue> | null | undefined,
  header: string,
): string | null | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const name = header.toLowerCase();
  let found: HeaderValue;
  let count = 0;
  for (const key of Object.keys(headers)) {
    if (!sameHeaderName(key, name) || headers[key] === undefined) continue;
    found = headers[key];
    count++;
  }
  if (count === 0) return undefined;
  if (count > 1) return null;
  if (Array.isArray(found)) {
    if (found.length !== 1) return found.length === 0 ? undefined : null;
    found = found[0];
  }
  if (typeof found === 'string') return found;
  // A header whose first byte is 0 stays a Buffer in Nest's parser; the grammar refuses it.
  if (Buffer.isBuffer(found)) return found.toString('utf8');
  // Nest's parser turns a header that looks like JSON into an object: not one ID.
  return null;
}

/** `record` with the ID header added, unless one is there in any case. */
function withHeader(record: unknown, header: string, id: string): unknown {
  if (typeof record !== 'object' || record === null) return record;
  const target = record as SerializedRecord;
  const headers = target.headers;
  if (typeof headers !== 'object' || headers === null) {
    target.headers = { [header]: id };
    return record;
  }
  const name = header.toLowerCase();
  const present = Object.keys(headers).some(
    (key) => sameHeaderName(key, name) && headers[key] !== undefined,
  );
  // A copy: the sender's headers object may be reused for other records.
  if (!present) target.headers = { ...headers, [header]: id };
  return record;
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
