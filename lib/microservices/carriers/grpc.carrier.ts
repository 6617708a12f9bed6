import { AsyncResource } from 'node:async_hooks';
import { createRequire } from 'node:module';
import type { TransportCarrier } from '../transport-carrier.js';

/** The part of `@grpc/grpc-js`'s `Metadata` the carrier uses. */
interface Metadata {
  get(key: string): Array<string | Buffer>;
  set(key: string, value: string): void;
  clone(): Metadata;
}
type MetadataClass = new () => Metadata;

/**
 * What `ServerGrpc` gives the processing hook for every call, unary and streaming alike: the
 * call's own properties (`{ ...call, operationId }`), its metadata among them.
 */
interface GrpcCallContext {
  readonly metadata?: Metadata;
}

/** A method of a `@grpc/grpc-js` service client, as `makeClientConstructor()` makes them. */
type ServiceMethod = ((...args: unknown[]) => unknown) & { requestStream?: boolean };

/** The parts of `ClientGrpcProxy` the carrier uses. */
interface GrpcClient {
  readonly url?: string;
  readonly clients?: Map<string, object>;
  getClientByServiceName(name: string): unknown;
}

/** A call as `ServerGrpc` hands it to a request-stream handler: an event emitter. */
type Listener = (...args: unknown[]) => unknown;
interface ServerCall {
  on(event: string | symbol, listener: Listener): unknown;
}

/** The methods of `ServerGrpc` that make handlers of calls with a request stream. */
const REQUEST_STREAM_METHODS = ['createRequestStreamMethod', 'createStreamCallMethod'] as const;

/** Marks `@grpc/grpc-js` service clients whose methods carry the ID already. */
const CARRYING = Symbol('nestjs-transaction-id:grpc-carrying');

/**
 * gRPC: call metadata. The processing hook runs for every call, unary and streaming, with the
 * call's metadata; `ClientGrpcProxy` adds the ID to the metadata of every call a service from
 * `getService()` makes, in a copy of the caller's `Metadata` when one was given (its own value
 * for the key wins).
 */
export const grpcCarrier: TransportCarrier<GrpcCallContext, GrpcClient> = {
  transport: 'grpc',
  transportId: 4, // Transport.GRPC
  client: 'ClientGrpcProxy',
  read: (context, header) => readMetadata(context.metadata, header),
  server: (server) => {
    // A request stream's messages, its end and its errors are events of the call, emitted by
    // HTTP/2 long after the processing hook returned: outside the call's unit of work.
    const target = server as Record<string, unknown>;
    for (const name of REQUEST_STREAM_METHODS) {
      const create = target[name];
      if (typeof create !== 'function') continue;
      target[name] = function (this: unknown, ...args: unknown[]) {
        const method = (
          create as (...a: unknown[]) => (call: ServerCall, ...rest: unknown[]) => unknown
        ).apply(this, args);
        return (call: ServerCall, ...rest: unknown[]) => method(listeningInWork(call), ...rest);
      };
    }
  },
  forward: (proxy, header, currentId) => {
    const Metadata = loadMetadata();
    if (Metadata === undefined) return;
    const key = header.toLowerCase();
    const carry = (serviceClient: unknown) =>
      carryOn(serviceClient, key, () => currentId(proxy), Metadata);
    // Services taken before this call use the service clients made already.
    proxy.clients?.forEach(carry);
    const getClientByServiceName = proxy.getClientByServiceName;
    proxy.getClientByServiceName = function (this: GrpcClient, name: string) {
      const serviceClient = getClientByServiceName.call(this, name);
      carry(serviceClient);
      return serviceClient;
    };
  },
  target: (proxy) => (typeof proxy.url === 'string' ? `grpc://${proxy.url}` : undefined),
};

/**
 * `call`, whose listeners run in the async context they were added in: the handler's, which
 * adds them inside its unit of work.
 */
function listeningInWork(call: ServerCall): ServerCall {
  const emitter = call as ServerCall & Record<string, unknown>;
  const bound = new WeakMap<Listener, Listener>();
  const bind = (listener: Listener): Listener => {
    let inWork = bound.get(listener);
    if (inWork === undefined) {
      inWork = AsyncResource.bind(listener);
      bound.set(listener, inWork);
    }
    return inWork;
  };
  for (const name of ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener']) {
    const add = emitter[name];
    if (typeof add !== 'function') continue;
    emitter[name] = function (this: unknown, event: string | symbol, listener: Listener) {
      return add.call(this, event, typeof listener === 'function' ? bind(listener) : listener);
    };
  }
  for (const name of ['off', 'removeListener']) {
    const remove = emitter[name];
    if (typeof remove !== 'function') continue;
    emitter[name] = function (this: unknown, event: string | symbol, listener: Listener) {
      return remove.call(this, event, bound.get(listener) ?? listener);
    };
  }
  return call;
}

/**
 * The ID in a call's metadata: `null` when the key came more than once. HTTP/2 joins repeated
 * header lines into one value with ", ", so a value with a comma counts as several.
 */
function readMetadata(metadata: Metadata | undefined, header: string): string | null | undefined {
  if (typeof metadata?.get !== 'function') return undefined;
  const values = metadata.get(header.toLowerCase());
  if (values.length === 0) return undefined;
  const [value] = values;
  if (values.length > 1 || typeof value !== 'string' || value.includes(',')) return null;
  return value;
}

/** Makes every method of a service client put the current ID in its call's metadata. */
function carryOn(
  serviceClient: unknown,
  key: string,
  currentId: () => string | undefined,
  Metadata: MetadataClass,
): void {
  if (typeof serviceClient !== 'object' || serviceClient === null) return;
  const target = serviceClient as Record<PropertyKey, unknown>;
  if (target[CARRYING]) return;
  target[CARRYING] = true;
  for (const name of Object.keys(Object.getPrototypeOf(serviceClient) ?? {})) {
    const method = target[name];
    if (typeof method !== 'function') continue;
    target[name] = carrying(method as ServiceMethod, key, currentId, Metadata);
  }
}

/**
 * `method` with the current ID in its metadata argument: the second for calls that send one
 * request, the first for request streams (`@grpc/grpc-js`'s signatures).
 */
function carrying(
  method: ServiceMethod,
  key: string,
  currentId: () => string | undefined,
  Metadata: MetadataClass,
): ServiceMethod {
  const index = method.requestStream === true ? 0 : 1;
  const carrier = function (this: unknown, ...args: unknown[]): unknown {
    const id = currentId();
    if (id !== undefined) putId(args, index, key, id, Metadata);
    return method.apply(this, args);
  };
  // Nest and grpc-js read the method's description (`path`, `requestStream`, …) from it.
  return Object.assign(carrier, method);
}

function putId(
  args: unknown[],
  index: number,
  key: string,
  id: string,
  Metadata: MetadataClass,
): void {
  const given = args[index];
  if (isMetadata(given)) {
    if (given.get(key).length > 0) return;
    const copy = given.clone(); // the caller's Metadata may be reused for other calls
    copy.set(key, id);
    args[index] = copy;
    return;
  }
  const metadata = new Metadata();
  metadata.set(key, id);
  if (given === undefined && args.length > index) args[index] = metadata;
  else args.splice(index, 0, metadata);
}

function isMetadata(value: unknown): value is Metadata {
  const candidate = value as Partial<Metadata & { getMap: unknown }> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.get === 'function' &&
    typeof candidate.clone === 'function' &&
    typeof candidate.getMap === 'function'
  );
}

/** `@grpc/grpc-js`'s `Metadata`, from where `@nestjs/microservices` loads the package. */
function loadMetadata(): MetadataClass | undefined {
  try {
    const require = createRequire(import.meta.resolve('@nestjs/microservices'));
    return (require('@grpc/grpc-js') as { Metadata: MetadataClass }).Metadata;
  } catch {
    return undefined;
  }
}
