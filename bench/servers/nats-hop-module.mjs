// nats-hop with the library on the NATS hop too: the gateway's hand-made client forwards the ID
// (`TransactionForwarding.forward()`, what `ClientsModule` clients get with no call), and the
// responder application imports `TransactionModule.forRoot()` and answers with the ID it settled
// from the message header, so the correctness check passes only if the ID crossed NATS.
import {
  TransactionContext,
  TransactionForwarding,
  TransactionModule,
} from 'nestjs-transaction-id';
import { createHop } from './nats-hop.mjs';

export function create(context) {
  return createHop(context, {
    forward: (app, client) => app.get(TransactionForwarding).forward(client),
    responderImports: [TransactionModule.forRoot()],
    responderInject: [TransactionContext],
    reply: (_data, [transaction]) => ({ id: transaction.id }),
  });
}
