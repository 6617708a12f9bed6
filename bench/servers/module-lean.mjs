// The library with `globalInterceptor: false`, the lean set-up for HTTP-only services: the ID is
// settled by the server binding alone, and Nest runs handlers without an interceptor pipeline.
import { createWithOptions } from './module.mjs';

export function create(context) {
  return createWithOptions(context, { globalInterceptor: false });
}
