import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { RESOLVED_TRANSACTION_OPTIONS } from '../transaction.internal-constants.js';
import type { ResolvedTransactionOptions } from '../options/transaction-options.js';
import { REJECTED } from '../id/transaction-id.policy.js';
import { UnitOfWork } from '../context/unit-of-work.js';
import { currentTransactionId } from '../context/transaction.storage.js';
import { forwardableId } from '../http/propagation-targets.js';
import { importOptional } from '../utils/import-optional.js';
import type { TransportCarrier } from './transport-carrier.js';
import { BUILT_IN_CARRIERS } from './carriers/index.js';

/** Runs a message's handling; Nest's `Server` calls it before guards, with the message context. */
type ProcessingStartHook = (
  transportId: number | symbol,
  context: unknown,
  done: () => Promise<unknown>,
) => unknown;

/** The part of a `@nestjs/microservices` server the binding uses. */
interface RpcServer {
  readonly transportId?: number | symbol;
  setOnProcessingStartHook(hook: ProcessingStartHook): void;
}

/** Marks servers and clients this library handles already. */
const BOUND = Symbol.for('nestjs-transaction-id:bound');
type Marked = object & { [BOUND]?: true };

/**
 * Carries the transaction ID over every `@nestjs/microservices` transport, with no code in the
 * application. Servers register themselves with Nest's modules container: each gets a processing
 * hook that settles the ID of every message (request or event) before guards run, as a unit of
 * work of its own. Clients registered as providers (`ClientsModule.register()`) forward the
 * current ID on `send()` and `emit()`; `TransactionForwarding.forward()` does the same for
 * clients made by hand.
 */
@Injectable()
export class MicroservicesBinding implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('TransactionModule');
  private readonly carriers: readonly TransportCarrier[];
  private subscription: { unsubscribe(): void } | undefined;
  /** `RpcException` of `@nestjs/microservices`, what a refused request is answered with. */
  private rpcException: (new (error: object) => Error) | undefined;

  constructor(
    private readonly modules: ModulesContainer,
    private readonly work: UnitOfWork,
    @Inject(RESOLVED_TRANSACTION_OPTIONS) private readonly options: ResolvedTransactionOptions,
  ) {
    // The application's own carriers first: they may replace a built-in one.
    this.carriers = [...options.carriers, ...BUILT_IN_CARRIERS];
  }

  async onModuleInit(): Promise<void> {
    // Servers created before and after this point alike: the registry replays.
    this.subscription = this.modules
      .getRpcTargetRegistry<RpcServer>()
      .subscribe((server) => this.bindServer(server));
    const microservices = await importOptional<Record<string, unknown>>('@nestjs/microservices');
    if (microservices === undefined) return;
    this.rpcException = microservices.RpcException as typeof this.rpcException;
    for (const module of this.modules.values()) {
      for (const { instance } of module.providers.values()) {
        if (isClientProxy(instance) && this.carrierOfClient(instance) !== undefined) {
          this.forward(instance);
        }
      }
    }
  }

  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /**
   * Makes `client` forward the current transaction ID; `false` when no carrier knows its class.
   * Forwarding a client twice changes nothing.
   */
  forward(client: object): boolean {
    if ((client as Marked)[BOUND]) return true;
    const carrier = this.carrierOfClient(client);
    if (carrier === undefined) return false;
    const { header, propagationTargets } = this.options;
    // Without targets every destination may receive the ID: no URL to build per message.
    carrier.forward(
      client,
      header,
      propagationTargets === undefined
        ? currentTransactionId
        : (sender) => forwardableId(carrier.target?.(sender), propagationTargets),
    );
    (client as Marked)[BOUND] = true;
    return true;
  }

  private bindServer(server: RpcServer): void {
    if (typeof server?.setOnProcessingStartHook !== 'function' || (server as Marked)[BOUND]) return;
    (server as Marked)[BOUND] = true;
    const carrier = this.carriers.find((c) => c.transportId === server.transportId);
    carrier?.server?.(server);
    const transport = carrier?.transport ?? String(server.transportId?.toString() ?? 'custom');
    const { header } = this.options;
    const previous = (server as unknown as { onProcessingStartHook: ProcessingStartHook })
      .onProcessingStartHook;

    server.setOnProcessingStartHook((transportId, context, done) => {
      const incoming = carrier === undefined ? undefined : readSafely(carrier, context, header);
      const handle = () => previous.call(server, transportId, context, done);
      const store = this.work.settle(incoming, { transport, context });
      if (store !== REJECTED) return this.work.run(store, handle);
      const reason = `${incoming === undefined ? 'no' : 'an invalid'} ${header}`;
      if (this.rpcException !== undefined) {
        // Runs under a fresh ID until `MessageRefusalGuard`, the first guard, answers or drops it.
        const refusal = new this.rpcException({
          status: 'error',
          message: `Refused: the message came with ${reason}; send one valid transaction ID.`,
        });
        return this.work.run({ ...this.work.fresh(), refusal }, handle);
      }
      this.logger.warn(`A ${transport} message with ${reason} was dropped.`);
      return undefined;
    });
  }

  private carrierOfClient(client: object): TransportCarrier | undefined {
    return this.carriers.find(({ client: type }) =>
      typeof type === 'string'
        ? isInstanceOfClassNamed(client, type)
        : typeof type === 'function' && client instanceof type,
    );
  }
}

/** What a carrier reads; a message it cannot read (malformed headers) has no valid ID. */
function readSafely(
  carrier: TransportCarrier,
  context: unknown,
  header: string,
): string | null | undefined {
  try {
    return carrier.read(context, header);
  } catch {
    return null;
  }
}

/**
 * Whether `value`'s class, or one it extends, is named `name`: known before
 * `@nestjs/microservices` is loaded (clients made in a constructor), and whichever copy of it
 * the client came from.
 */
function isInstanceOfClassNamed(value: object, name: string): boolean {
  for (
    let proto = Object.getPrototypeOf(value);
    proto !== null;
    proto = Object.getPrototypeOf(proto)
  ) {
    if (proto.constructor?.name === name) return true;
  }
  return false;
}

function isClientProxy(value: unknown): value is object {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { send?: unknown }).send === 'function' &&
    typeof (value as { emit?: unknown }).emit === 'function' &&
    typeof (value as { setOnDispatchHook?: unknown }).setOnDispatchHook === 'function'
  );
}
