import type { TransportCarrier } from '../transport-carrier.js';
import { hasHeader, readHeaderRecord } from './header-values.js';
import { readMetadata, writeMetadata } from './packet-metadata.js';

/** The parts of `MqttContext` the carrier uses: the packet of `mqtt`'s `'message'` event. */
interface MqttContextLike {
  getPacket(): { properties?: { userProperties?: unknown }; payload?: unknown } | undefined;
}

type PublishOptions = { properties?: { userProperties?: Record<string, unknown> } } & object;

/** The parts of `ClientMqtt` the carrier uses. */
interface MqttClient {
  readonly options?: { url?: string; protocolVersion?: number };
  serializer: { serialize(packet: unknown): unknown };
  mergePacketOptions(requestOptions?: PublishOptions): PublishOptions | undefined;
  setOnDispatchHook(hook: (packet: { metadata?: unknown }) => void): void;
}

/** Options of `mqttCarrier()`. */
export interface MqttCarrierOptions {
  /**
   * Whether clients that speak MQTT 3.1.1 (`ClientMqtt`'s default; 3.1.1 has no headers) send
   * the ID in Nest's packet metadata, a `metadata` field of the JSON body beside `pattern`,
   * `data` and `id`. A Nest receiver without the library still hands its handlers exactly the
   * `data` the sender passed, but a consumer that reads the raw JSON sees the extra field: so it
   * is opt-in. MQTT 5 clients (`protocolVersion: 5`) always use a user property instead, and
   * receivers read both whatever this says.
   *
   * @default false
   */
  envelope?: boolean;
}

/** How the metadata field of Nest's JSON packet starts. */
const METADATA_KEY = '"metadata"';

/** The ID an MQTT 5 packet takes, noted by the dispatch hook in the sender's async context. */
const PENDING_ID = Symbol('nestjs-transaction-id:mqtt-id');

/**
 * The MQTT carrier. MQTT 5: a user property (`properties.userProperties`, whose value may be an
 * array); outgoing, `ClientMqtt#mergePacketOptions()` adds it unless an `MqttRecordBuilder`
 * record's user properties or the client's `userProperties` option have it under any spelling:
 * those win. MQTT 3.1.1: Nest's packet metadata in the JSON body, opt-in (`envelope`).
 *
 * The library registers `mqttCarrier()`; to send from 3.1.1 clients too, give
 * `carriers: [mqttCarrier({ envelope: true })]` to `TransactionModule.forRoot()`.
 *
 * @publicApi
 */
export function mqttCarrier(settings: MqttCarrierOptions = {}): TransportCarrier {
  const envelope = settings.envelope === true;
  const carrier: TransportCarrier<MqttContextLike, MqttClient> = {
    transport: 'mqtt',
    transportId: 3, // Transport.MQTT
    client: 'ClientMqtt',

    read(context, header) {
      const packet = context.getPacket();
      const property = readHeaderRecord(packet?.properties?.userProperties, header);
      return property !== undefined ? property : readEnvelope(packet?.payload, header);
    },

    forward(client, header, currentId) {
      if (client.options?.protocolVersion === 5) userProperty(client, header, currentId);
      else if (envelope) writeMetadata(client, header, currentId);
    },

    target: ({ options }) => options?.url ?? 'mqtt://localhost:1883',
  };
  return carrier;
}

/**
 * Puts the ID in a user property of every packet. The client may publish a request only once
 * the broker acknowledged its subscription to the replies, outside the sender's async context:
 * the ID is read in the dispatch hook, which runs in it, and carried on the packet (under a
 * symbol, which JSON leaves out) to the serializer, which the client calls right before it
 * merges the publish options.
 */
function userProperty(
  client: MqttClient,
  header: string,
  currentId: (client: MqttClient) => string | undefined,
): void {
  const target = client as MqttClient & { onDispatchHook?: (packet: object) => void };
  const previous = target.onDispatchHook;
  client.setOnDispatchHook((packet) => {
    previous?.call(client, packet);
    const id = currentId(client);
    if (id !== undefined) (packet as { [PENDING_ID]?: string })[PENDING_ID] = id;
  });

  let pending: string | undefined;
  const serializer = client.serializer;
  client.serializer = {
    serialize(packet) {
      pending = (packet as { [PENDING_ID]?: string } | undefined)?.[PENDING_ID];
      return serializer.serialize(packet);
    },
  };
  const merge = client.mergePacketOptions;
  client.mergePacketOptions = function mergePacketOptions(this: MqttClient, requestOptions) {
    const id = pending;
    pending = undefined;
    const merged = merge.call(this, requestOptions);
    const properties = merged?.properties?.userProperties;
    if (id === undefined || hasHeader(properties, header)) return merged;
    return {
      ...merged,
      properties: { ...merged?.properties, userProperties: { ...properties, [header]: id } },
    };
  };
}

/** The ID in the packet metadata of a 3.1.1 envelope: `{ pattern, data, id?, metadata }`. */
function readEnvelope(payload: unknown, header: string): string | null | undefined {
  // Most messages have none: look before parsing the body a second time.
  if (!Buffer.isBuffer(payload) || !payload.includes(METADATA_KEY)) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(payload.toString());
  } catch {
    return undefined;
  }
  const metadata = (body as { metadata?: unknown } | null)?.metadata;
  return readMetadata({ getMetadata: () => metadata }, header);
}
