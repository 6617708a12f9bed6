import 'reflect-metadata';
import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  Module,
  UseGuards,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  SubscribeMessage,
  WebSocketGateway,
  WsException,
} from '@nestjs/websockets';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { WsAdapter } from '@nestjs/platform-ws';
import {
  TransactionContext,
  TransactionId,
  TransactionModule,
  type TransactionModuleOptions,
} from 'nestjs-transaction-id';

/** What the gateway saw, in the order it saw it. */
export interface Seen {
  readonly where: 'connect' | 'disconnect' | 'guard' | 'handler';
  readonly id: string | undefined;
  readonly n?: number;
}

export interface OrderMessage {
  readonly n: number;
  readonly fail?: boolean;
  readonly 'x-transaction-id'?: string;
}

/** Records the ID a guard sees: the unit of work starts before guards. */
@Injectable()
class RecordingGuard implements CanActivate {
  constructor(private readonly transaction: TransactionContext) {}

  canActivate(context: ExecutionContext): boolean {
    const data = context.switchToWs().getData<OrderMessage>();
    seen.push({ where: 'guard', id: this.transaction.id, n: data?.n });
    return true;
  }
}

export const seen: Seen[] = [];

@WebSocketGateway()
class OrdersGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(private readonly transaction: TransactionContext) {}

  handleConnection(): void {
    seen.push({ where: 'connect', id: this.transaction.id });
  }

  handleDisconnect(): void {
    seen.push({ where: 'disconnect', id: this.transaction.id });
  }

  @UseGuards(RecordingGuard)
  @SubscribeMessage('order')
  async order(@MessageBody() data: OrderMessage, @TransactionId() id: string | undefined) {
    await new Promise((resolve) => setTimeout(resolve, 1 + (data.n % 5)));
    // After awaits, both ways of reading the ID agree.
    seen.push({ where: 'handler', id: this.transaction.id, n: data.n });
    if (data.fail) throw new Error(`order ${data.n} failed in ${id}`);
    // The acknowledgement (socket.io), or the message sent back (ws).
    return { n: data.n, id };
  }

  @SubscribeMessage('refuse')
  refuse(): never {
    throw new WsException('not allowed');
  }
}

/** A gateway application on `platform`, listening on 127.0.0.1. */
export async function startGatewayApp(
  platform: 'socket.io' | 'ws',
  options: TransactionModuleOptions = {},
): Promise<{ app: INestApplication; port: number }> {
  @Module({
    imports: [TransactionModule.forRoot(options)],
    providers: [OrdersGateway, RecordingGuard],
  })
  class GatewayModule {}

  const app = await NestFactory.create(GatewayModule, { logger: false });
  app.useWebSocketAdapter(platform === 'socket.io' ? new IoAdapter(app) : new WsAdapter(app));
  await app.listen(0, '127.0.0.1');
  return { app, port: (app.getHttpServer().address() as { port: number }).port };
}
