import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TransportCarrier } from '../microservices/transport-carrier.js';
import { TRANSACTION_ID_HEADER } from '../transaction.constants.js';
import { isDefaultId } from '../transaction.internal-constants.js';
import type {
  InvalidTransactionIdPolicy,
  PropagationTarget,
  TransactionMessageSource,
  TransactionModuleOptions,
} from '../interfaces/transaction-module-options.interface.js';

/**
 * The module's options with every default filled in, checked once at start-up: what
 * `TransactionInterceptor` and its subclasses read as `this.options`.
 *
 * @publicApi
 */
export interface ResolvedTransactionOptions {
  /** Lower-cased, as Node.js gives incoming header names. */
  readonly header: string;
  readonly invalid: InvalidTransactionIdPolicy;
  readonly generate: () => string;
  readonly validate: (value: string) => boolean;
  readonly echo: boolean;
  readonly reportUnhandled: boolean;
  readonly trustIncoming: boolean | ((request: IncomingMessage) => boolean);
  readonly trustMessages: boolean | ((source: TransactionMessageSource) => boolean);
  readonly tagClientId: boolean;
  readonly require: boolean;
  readonly propagationTargets: readonly PropagationTarget[] | undefined;
  readonly carriers: readonly TransportCarrier[];
  readonly forwardHttpCalls: boolean;
  readonly deriveFromTraceId: boolean;
}

/** RFC 9110 `token`: what a header name may be made of. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The default `validate`; `TransactionIdPolicy` recognises it to skip redundant checks. */
export const defaultValidate = (value: string): boolean => isDefaultId(value);

/**
 * Merges the user's options over the defaults and checks them, so that a mistake fails the
 * application at start-up with a message naming the option, not at the first request.
 */
export function resolveTransactionOptions(
  options: TransactionModuleOptions = {},
): ResolvedTransactionOptions {
  if (options === null || typeof options !== 'object') {
    throw optionError('options', 'an object', options);
  }
  const {
    header = TRANSACTION_ID_HEADER,
    invalid = 'replace',
    generate = randomUUID,
    validate = defaultValidate,
    echo = true,
    reportUnhandled = true,
    trustIncoming = true,
    trustMessages = typeof trustIncoming === 'boolean' ? trustIncoming : true,
    tagClientId = false,
    require = false,
    propagationTargets,
    carriers = [],
    forwardHttpCalls = true,
    deriveFromTraceId = false,
  } = options;

  if (typeof header !== 'string' || !HEADER_NAME.test(header)) {
    throw optionError('header', 'an HTTP header name such as "x-transaction-id"', header);
  }
  if (invalid !== 'replace' && invalid !== 'reject') {
    throw optionError('invalid', '"replace" or "reject"', invalid);
  }
  if (typeof generate !== 'function') {
    throw optionError('generate', 'a function returning a new ID', generate);
  }
  if (typeof validate !== 'function') {
    throw optionError('validate', 'a function (value: string) => boolean', validate);
  }
  if (typeof echo !== 'boolean') {
    throw optionError('echo', 'true or false', echo);
  }
  if (typeof reportUnhandled !== 'boolean') {
    throw optionError('reportUnhandled', 'true or false', reportUnhandled);
  }
  if (typeof trustIncoming !== 'boolean' && typeof trustIncoming !== 'function') {
    throw optionError(
      'trustIncoming',
      'true, false or a function (request) => boolean',
      trustIncoming,
    );
  }
  if (typeof trustMessages !== 'boolean' && typeof trustMessages !== 'function') {
    throw optionError(
      'trustMessages',
      'true, false or a function (source) => boolean',
      trustMessages,
    );
  }
  if (typeof tagClientId !== 'boolean') {
    throw optionError('tagClientId', 'true or false', tagClientId);
  }
  if (typeof require !== 'boolean') {
    throw optionError('require', 'true or false', require);
  }
  if (
    propagationTargets !== undefined &&
    (!Array.isArray(propagationTargets) ||
      !propagationTargets.every((t) => typeof t === 'string' || t instanceof RegExp))
  ) {
    throw optionError('propagationTargets', 'an array of strings and RegExps', propagationTargets);
  }
  if (!Array.isArray(carriers) || !carriers.every(isCarrier)) {
    throw optionError(
      'carriers',
      'an array of transport carriers ({ transport, transportId, read, forward })',
      carriers,
    );
  }
  if (typeof forwardHttpCalls !== 'boolean') {
    throw optionError('forwardHttpCalls', 'true or false', forwardHttpCalls);
  }
  if (typeof deriveFromTraceId !== 'boolean') {
    throw optionError('deriveFromTraceId', 'true or false', deriveFromTraceId);
  }
  // Stateful (global or sticky) RegExps would match every other call only.
  const targets = propagationTargets?.map((t) =>
    t instanceof RegExp && (t.global || t.sticky)
      ? new RegExp(t.source, t.flags.replace(/[gy]/g, ''))
      : t,
  );

  return {
    header: header.toLowerCase(),
    invalid,
    generate,
    validate,
    echo,
    reportUnhandled,
    trustIncoming,
    trustMessages,
    tagClientId,
    require,
    propagationTargets: targets,
    carriers,
    forwardHttpCalls,
    deriveFromTraceId,
  };
}

function isCarrier(value: unknown): value is TransportCarrier {
  const carrier = value as Partial<TransportCarrier> | null;
  return (
    typeof carrier === 'object' &&
    carrier !== null &&
    typeof carrier.transport === 'string' &&
    (typeof carrier.transportId === 'number' || typeof carrier.transportId === 'symbol') &&
    typeof carrier.read === 'function' &&
    typeof carrier.forward === 'function'
  );
}

function optionError(name: string, expected: string, received: unknown): Error {
  const shown = typeof received === 'function' ? 'a function' : safeStringify(received);
  return new Error(
    `nestjs-transaction-id: option "${name}" must be ${expected}; received ${shown}.`,
  );
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
