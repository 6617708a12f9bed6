import { ClientNats, NatsRecordBuilder } from '@nestjs/microservices';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { natsCarrier } from '../../lib/microservices/carriers/nats.carrier.js';

const HEADER = 'x-transaction-id';

/** What NATS puts on the wire for the headers `mergeHeaders()` gives `publish()`. */
function wire(headers: unknown): string | undefined {
  if (headers === undefined) return undefined;
  return new TextDecoder().decode((headers as { encode(): Uint8Array }).encode());
}

/** A stock `ClientNats` (never connected) that forwards `id`. */
function forwardingClient(id: string | undefined, options: object = {}): ClientNats {
  const client = new ClientNats({ servers: ['nats://127.0.0.1:4222'], ...options });
  natsCarrier.forward(client as never, HEADER, () => id);
  return client;
}

/** `ClientNats#mergeHeaders()`, protected in its types: what `send()` and `emit()` call. */
function merge(client: ClientNats, requestHeaders?: unknown): unknown {
  return (client as unknown as { mergeHeaders(h?: unknown): unknown }).mergeHeaders(requestHeaders);
}

describe('NATS carrier, outgoing', () => {
  it('puts the ID in a header of its own when the message has none', () => {
    const client = forwardingClient('id-1');
    expect(wire(merge(client))).toBe(`NATS/1.0\r\n${HEADER}: id-1\r\n\r\n`);
    // Every message gets headers of its own.
    expect(merge(client)).not.toBe(merge(client));
  });

  it('sends nothing outside a unit of work', () => {
    expect(merge(forwardingClient(undefined))).toBeUndefined();
  });

  it("adds the ID after a record's headers, without changing the record", () => {
    const own = natsHeaders();
    own.set('x-tenant', 'acme');
    const record = new NatsRecordBuilder({}).setHeaders(own).build();
    const headers = merge(forwardingClient('id-2'), record.headers);
    expect(wire(headers)).toBe(`NATS/1.0\r\nx-tenant: acme\r\n${HEADER}: id-2\r\n\r\n`);
    expect(wire(record.headers)).toBe('NATS/1.0\r\nx-tenant: acme\r\n\r\n');
  });

  it("keeps the sender's own value, under any spelling", () => {
    const own = natsHeaders();
    own.set('X-Transaction-ID', 'theirs');
    expect(wire(merge(forwardingClient('id-3'), own))).toBe(
      'NATS/1.0\r\nX-Transaction-ID: theirs\r\n\r\n',
    );
  });

  it("adds the ID to the client's `headers` option", () => {
    const client = forwardingClient('id-4', { headers: { 'x-region': 'eu' } });
    expect(wire(merge(client))).toBe(`NATS/1.0\r\nx-region: eu\r\n${HEADER}: id-4\r\n\r\n`);
  });

  it('falls back to `append()` for headers that keep no public map', () => {
    /** Headers of a NATS client whose `MsgHdrs` differ from the one the carrier knows. */
    class OtherHeaders {
      readonly lines: string[] = [];
      append(key: string, value: string): void {
        this.lines.push(`${key}: ${value}`);
      }
      *[Symbol.iterator](): Iterator<[string, string[]]> {}
    }
    // As `ClientNats#mergeHeaders()`: headers only when the message or the options have some.
    const client = {
      options: {} as { headers?: Record<string, string> },
      mergeHeaders(requestHeaders?: unknown) {
        if (!requestHeaders && !this.options?.headers) return undefined;
        return requestHeaders ?? new OtherHeaders();
      },
    };
    natsCarrier.forward(client as never, HEADER, () => 'id-5');
    expect(client.mergeHeaders()).toEqual(expect.objectContaining({ lines: [`${HEADER}: id-5`] }));
  });
});
