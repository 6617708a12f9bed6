/**
 * A request to an allowed origin that failed: the server answered with a failed status
 * (`status`), or nothing answered (`status` 0, XHR only; `fetch` rejects with its own error). It
 * is what gets reported to Sentry, once, tagged with `transactionId`; throwing this same object
 * from the app reports nothing more.
 *
 * @publicApi
 */
export class TransactionRequestError extends Error {
  override readonly name = 'TransactionRequestError';

  constructor(
    /** Upper-case HTTP method. */
    readonly method: string,
    /** The URL without its query and fragment, which may hold personal data. */
    readonly url: string,
    /** The response's status; 0 when no response came. */
    readonly status: number,
    /** The ID the server echoed, or else the one the request carried. */
    readonly transactionId: string,
  ) {
    super(
      status === 0
        ? `${method} ${url} failed: no response`
        : `${method} ${url} failed with status ${status}`,
    );
  }
}

/** The transaction ID of each response, XHR and failure seen by the instrumentation. */
const ids = /* @__PURE__ */ new WeakMap<object, string>();
/** The error reported for each failed response or XHR. */
const failures = /* @__PURE__ */ new WeakMap<object, Error>();

/**
 * How to settle an XHR that is done but whose `loadend` has not reached our listener yet: the app's
 * listeners, added before `send()`, run first and may already ask about it.
 */
const unsettled = /* @__PURE__ */ new WeakMap<object, () => void>();

/** Registers `settleIt` to run when the app asks about `target` before the instrumentation saw it end. */
export function settleWhenAsked(target: object, settleIt: () => void): void {
  unsettled.set(target, settleIt);
}

function settleNow(target: object): object {
  unsettled.get(target)?.();
  return target;
}

/** Remembers the ID of a response, an XHR or an error, and the failure reported for it. */
export function remember(target: object, transactionId: string, failure?: Error): void {
  unsettled.delete(target);
  ids.set(target, transactionId);
  if (failure !== undefined) {
    failures.set(target, failure);
    ids.set(failure, transactionId);
  }
}

/**
 * The transaction ID of a request to an allowed origin, given its `Response`, its
 * `XMLHttpRequest`, or the error it failed with (a rejected `fetch`, a `TransactionRequestError`):
 * the ID to show the user as a reference. `undefined` for anything else.
 *
 * @example
 * ```ts
 * } catch (error) {
 *   show(`Something went wrong — reference ${transactionIdOf(error) ?? getTransactionId()}`);
 * }
 * ```
 * @publicApi
 */
export function transactionIdOf(target: unknown): string | undefined {
  if (target instanceof TransactionRequestError) return target.transactionId;
  return typeof target === 'object' && target !== null ? ids.get(settleNow(target)) : undefined;
}

/**
 * The error already reported for a failed response or XHR, if it failed. Throw it, rather than an
 * error of your own, and Sentry does not report the failure a second time.
 *
 * @example
 * ```ts
 * const response = await fetch('/checkout', { method: 'POST', body });
 * if (!response.ok) throw requestFailure(response) ?? new Error(`status ${response.status}`);
 * ```
 * @publicApi
 */
export function requestFailure(target: Response | XMLHttpRequest | undefined): Error | undefined {
  return target === undefined ? undefined : failures.get(settleNow(target));
}
