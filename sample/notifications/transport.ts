import { Transport, type ClientOptions, type MicroserviceOptions } from '@nestjs/microservices';

/**
 * How orders reaches notifications: Nest's TCP transport by default (nothing to install), NATS
 * when `NATS_URL` is set (`NATS_URL=nats://127.0.0.1:4222 npm run sample`). Both sides read it.
 */
export function notificationsTransport(): MicroserviceOptions & ClientOptions {
  const natsUrl = process.env.NATS_URL;
  if (natsUrl) return { transport: Transport.NATS, options: { servers: [natsUrl] } };
  const port = Number(process.env.NOTIFICATIONS_TCP_PORT ?? 3003);
  return { transport: Transport.TCP, options: { host: '127.0.0.1', port } };
}
