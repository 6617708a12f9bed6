/**
 * How one `@nestjs/microservices` transport carries the transaction ID: where a server finds it
 * on an incoming message, and how a client puts it on the messages it sends. The policy
 * (validation, trust, generation), the unit of work and Sentry are the library's; a carrier
 * only gets and sets, as OpenTelemetry's propagators split a getter and a setter per carrier.
 *
 * The library has one for each built-in transport. Give your own for a custom transport
 * (`CustomTransportStrategy`) in the `carriers` option.
 *
 * @example
 * ```ts
 * const carrier: TransportCarrier<MyContext, MyClient> = {
 *   transport: 'my-bus',
 *   transportId: MY_BUS, // the symbol your server's `transportId` holds
 *   client: MyBusClient,
 *   read: (context, header) => context.getHeaders()[header],
 *   forward: (client, header, currentId) =>
 *     client.useHeaders(() => {
 *       const id = currentId();
 *       return id === undefined ? {} : { [header]: id };
 *     }),
 * };
 * ```
 *
 * @publicApi
 */
export interface TransportCarrier<Context = any, Client = any> {
  /** The transport's name, as `trustMessages` and log lines give it: `'nats'`, `'my-bus'`. */
  readonly transport: string;

  /** The `transportId` of the transport's servers: Nest's `Transport` value, or your symbol. */
  readonly transportId: number | symbol;

  /**
   * The transport's client class, or the name of one that `@nestjs/microservices` exports
   * (`'ClientNats'`): clients that are instances of it forward the ID.
   */
  readonly client?: string | (abstract new (...args: never[]) => Client);

  /**
   * The raw transaction ID on the message a handler is given `context` for: `undefined` when it
   * has none, `null` when it has several. Never validated here.
   */
  read(context: Context, header: string): string | null | undefined;

  /**
   * Makes `client` put `currentId()` (when it returns one) on every message it sends, under
   * `header`, unless the sender set that header on the message already. Called once per client.
   */
  forward(client: Client, header: string, currentId: (client: Client) => string | undefined): void;

  /**
   * Called once for each server of the transport when the library binds it, before it listens:
   * for transports whose handlers get parts of a message after the processing hook returned
   * (gRPC request streams), so that those parts reach the handler inside its unit of work.
   */
  server?(server: object): void;

  /**
   * Where `client` sends to, as a URL (`'nats://10.0.0.5:4222'`), for `propagationTargets`; a
   * client that does not say is allowed whatever the targets.
   */
  target?(client: Client): string | undefined;
}
