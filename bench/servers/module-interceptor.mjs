// The library with `globalInterceptor: true`: what a service with message handlers, gateways or
// resolvers runs (`'auto'` registers the interceptor there), timed on the same HTTP route.
import { createWithOptions } from './module.mjs';

export function create(context) {
  return createWithOptions(context, { globalInterceptor: true });
}
