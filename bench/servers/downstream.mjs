// The local server that the outgoing variants call: answers the transaction ID it received, as
// JSON. Plain node:http, in a process of its own (on the load generator's core when pinned), so
// its CPU time is not counted as the server's.
import { createServer } from 'node:http';

const server = createServer((request, response) => {
  const body = JSON.stringify({ id: request.headers['x-transaction-id'] ?? null });
  response.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'ready', port: server.address().port });
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
