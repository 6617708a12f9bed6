// Diagnostic: nats-hop whose client forwards the ID (the sender's half of the NATS hop with the
// module: the wrapped `mergeHeaders()`, the header encoded by the sender and decoded by the
// receiver's NATS client), while the responder application has no module and answers with the ID
// in the payload. Between nats-hop and nats-hop+module: splits the hop's cost into sending and
// receiving.
import { TransactionForwarding } from 'nestjs-transaction-id';
import { createHop } from './nats-hop.mjs';

export function create(context) {
  return createHop(context, {
    forward: (app, client) => app.get(TransactionForwarding).forward(client),
    reply: (data) => ({ id: data.id }),
  });
}
