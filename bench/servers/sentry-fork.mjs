// `bare` with Sentry's isolation scope forked per request by hand, as the errors-only set-up's
// module does, and nothing else: what the fork itself costs, apart from the module.
import { create as createBare } from './bare.mjs';

export function create(context) {
  const made = createBare(context);
  made.configureApp = (app) => {
    const server = app.getHttpServer();
    const emit = server.emit;
    const { sentry } = context;
    server.emit = function (event, request, response) {
      if (event !== 'request') return emit.apply(this, arguments);
      return sentry.withIsolationScope(() => emit.call(this, event, request, response));
    };
  };
  return made;
}
