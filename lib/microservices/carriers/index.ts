import type { TransportCarrier } from '../transport-carrier.js';
import { tcpCarrier } from './tcp.carrier.js';
import { kafkaCarrier } from './kafka.carrier.js';
import { grpcCarrier } from './grpc.carrier.js';

/** The carriers of the transports `@nestjs/microservices` ships, one file each. */
export const BUILT_IN_CARRIERS: readonly TransportCarrier[] = [
  tcpCarrier,
  kafkaCarrier,
  grpcCarrier,
];
