import { createRequire } from 'node:module';
import type { EachMessagePayload, KafkaMessage, Message } from 'kafkajs';

// kafkajs's own record batch encoder and decoder: what its producer writes into a Produce request
// and its consumer reads back from a Fetch response. No broker runs here; these put a message
// through the same bytes one would have stored.
const require = createRequire(import.meta.url);
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (record: object) => unknown;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch(batch: object): Promise<{ buffer: Buffer }>;
};
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (
  decoder: unknown,
) => Promise<{ records: KafkaMessage[] }>;
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;

/** The messages a consumer would be given for `messages` a producer sent. */
export async function throughTheWire(messages: readonly Message[]): Promise<KafkaMessage[]> {
  const now = Date.now();
  const records = messages.map((message, offsetDelta) =>
    Record({ ...message, offsetDelta, timestampDelta: 0 }),
  );
  const batch = await RecordBatch({
    records,
    firstTimestamp: now,
    maxTimestamp: now,
    lastOffsetDelta: records.length - 1,
  });
  const { records: consumed } = await decodeBatch(new Decoder(batch.buffer));
  return consumed;
}

/** What `consumer.run({ eachMessage })` is given for one consumed message. */
export function eachMessagePayload(topic: string, message: KafkaMessage): EachMessagePayload {
  return {
    topic,
    partition: 0,
    message,
    heartbeat: async () => undefined,
    pause: () => () => undefined,
  };
}
