/** Headers that must not follow a redirect to another origin (as `fetch` itself drops them). */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];

/** Headers that describe a body, dropped when a redirect turns the request into a GET. */
const BODY_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
];

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Bodies that can be sent again: a stream or an async iterable was used up by the first hop, and
 * resending it would send nothing at all.
 */
function isReplayable(body: unknown): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof Blob ||
    body instanceof FormData ||
    body instanceof URLSearchParams
  );
}

/** As many as `fetch` follows. */
const MAX_REDIRECTS = 20;

/**
 * `fetch` that follows redirects itself, so that it can drop the transaction ID header on the way:
 * `fetch` keeps custom headers on every hop, even to another origin. The header goes on only to
 * the same origin as the first request, and only while `mayCarry` allows the URL.
 */
export async function fetchFollowingRedirects(
  url: URL,
  init: RequestInit & { headers: Headers },
  header: string,
  mayCarry: (url: string) => boolean,
): Promise<Response> {
  const origin = url.origin;
  let current = url;
  let request: RequestInit & { headers: Headers } = { ...init, redirect: 'manual' };

  for (let hops = 0; ; hops++) {
    const response = await fetch(current, request);
    const location = response.headers.get('location');
    if (!REDIRECT_STATUSES.has(response.status) || location === null) return response;
    if (hops === MAX_REDIRECTS) throw new TypeError(`More than ${MAX_REDIRECTS} redirects`);

    const next = new URL(location, current);
    await response.body?.cancel();
    const headers = new Headers(request.headers);
    if (next.origin !== origin || !mayCarry(next.href)) headers.delete(header);
    if (next.origin !== current.origin) for (const name of CREDENTIAL_HEADERS) headers.delete(name);

    const method = (request.method ?? 'GET').toUpperCase();
    const becomesGet =
      (response.status === 303 && method !== 'GET' && method !== 'HEAD') ||
      ((response.status === 301 || response.status === 302) && method === 'POST');
    if (becomesGet) {
      for (const name of BODY_HEADERS) headers.delete(name);
      request = { ...request, method: 'GET', body: undefined, headers };
    } else {
      if (!isReplayable(request.body)) {
        throw new TypeError(
          `Cannot replay a streamed body to follow a ${response.status} redirect`,
        );
      }
      request = { ...request, headers };
    }
    current = next;
  }
}
