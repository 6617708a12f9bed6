import type { TransportCarrier } from '../transport-carrier.js';
import { readMetadata, writeMetadata, type MetadataContext } from './packet-metadata.js';

/** The parts of `ClientRedis` the carrier uses. */
interface RedisClient {
  readonly options?: { host?: string; port?: number };
}

/**
 * Redis: Nest's packet metadata, which `ClientRedis` publishes beside the payload and
 * `RedisContext` returns from `getMetadata()`. A server without the library never looks at it.
 */
export const redisCarrier: TransportCarrier<MetadataContext, RedisClient> = {
  transport: 'redis',
  transportId: 1, // Transport.REDIS
  client: 'ClientRedis',
  read: readMetadata,
  forward: writeMetadata,
  target: ({ options }) => `redis://${options?.host ?? 'localhost'}:${options?.port ?? 6379}`,
};
