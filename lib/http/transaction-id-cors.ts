import { TRANSACTION_ID_HEADER } from '../transaction.shared-constants.js';

/**
 * The header fields of CORS options, as `app.enableCors()` takes them on Express (`cors`) and
 * Fastify (`@fastify/cors`).
 *
 * @publicApi
 */
export interface CorsHeaderOptions {
  allowedHeaders?: string | string[];
  exposedHeaders?: string | string[];
}

/**
 * CORS options for `app.enableCors()` that let pages on other origins send the transaction ID and
 * read the one the server echoes: the header is added to `exposedHeaders`, and to
 * `allowedHeaders` when that is a list (left out, the CORS middleware allows whatever headers the
 * page asks for, this one included). Everything else in `cors` is kept as given.
 *
 * @param cors Your CORS options, `origin` first of all.
 * @param header The module's `header` option, if you changed it.
 * @example
 * ```ts
 * app.enableCors(transactionIdCors({ origin: ['https://shop.example.com'] }));
 * ```
 * @publicApi
 */
export function transactionIdCors<T extends object = CorsHeaderOptions>(
  cors?: T & CorsHeaderOptions,
  header: string = TRANSACTION_ID_HEADER,
): T & CorsHeaderOptions & { exposedHeaders: string[] } {
  // `T & CorsHeaderOptions`, not `T extends CorsHeaderOptions`: with a constraint whose properties
  // are all optional, TypeScript refuses the other CORS options (`origin`) as excess properties.
  const given = (cors ?? {}) as T & CorsHeaderOptions;
  const result = { ...given, exposedHeaders: withHeader(given.exposedHeaders, header) };
  if (given.allowedHeaders !== undefined) {
    result.allowedHeaders = withHeader(given.allowedHeaders, header);
  }
  return result;
}

/** The list as an array, with `header` added unless some letter case of it is there already. */
function withHeader(list: string | string[] | undefined, header: string): string[] {
  const names = (typeof list === 'string' ? list.split(',') : (list ?? []))
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const lower = header.toLowerCase();
  return names.some((name) => name.toLowerCase() === lower) ? names : [...names, header];
}
