import type { TransportCarrier } from '../transport-carrier.js';
import { mqttCarrier } from './mqtt.carrier.js';
import { natsCarrier } from './nats.carrier.js';
import { redisCarrier } from './redis.carrier.js';
import { rmqCarrier } from './rmq.carrier.js';
import { tcpCarrier } from './tcp.carrier.js';
import { kafkaCarrier } from './kafka.carrier.js';
import { grpcCarrier } from './grpc.carrier.js';

/** The carriers of the transports `@nestjs/microservices` ships, one file each. */
export const BUILT_IN_CARRIERS: readonly TransportCarrier[] = [
  tcpCarrier,
  redisCarrier,
  natsCarrier,
  rmqCarrier,
  mqttCarrier(),
  kafkaCarrier,
  grpcCarrier,
];
