import type { TransportCarrier } from '../transport-carrier.js';
import { readMetadata, writeMetadata, type MetadataContext } from './packet-metadata.js';

/** The parts of `ClientTCP` the carrier uses. */
interface TcpClient {
  readonly host?: string;
  readonly port?: number;
}

/**
 * TCP: Nest's packet metadata, which `ClientTCP` sends beside the payload and `TcpContext`
 * returns from `getMetadata()`. A server without the library never looks at it.
 */
export const tcpCarrier: TransportCarrier<MetadataContext, TcpClient> = {
  transport: 'tcp',
  transportId: 0, // Transport.TCP
  client: 'ClientTCP',
  read: readMetadata,
  forward: writeMetadata,
  target: (client) => `tcp://${client.host ?? 'localhost'}:${client.port ?? 3000}`,
};
