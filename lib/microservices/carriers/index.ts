import type { TransportCarrier } from '../transport-carrier.js';
import { tcpCarrier } from './tcp.carrier.js';

/** The carriers of the transports `@nestjs/microservices` ships, one file each. */
export const BUILT_IN_CARRIERS: readonly TransportCarrier[] = [tcpCarrier];
