// The Sentry DSN of the bench servers points here: a do-nothing 200 responder on 127.0.0.1, so the
// SDK is fully active (its transport really sends) without any network.
import { createServer } from 'node:http';

/** Starts the sink; resolves with `{ dsn, envelopes(), close() }`. */
export async function startSentrySink() {
  let envelopes = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      envelopes++;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    dsn: `http://public@127.0.0.1:${port}/1`,
    envelopes: () => envelopes,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
