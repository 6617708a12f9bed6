// Diagnostic: nats-hop carrying the ID the way an application without the library would, by
// hand: the gateway puts it in a NATS header of a `NatsRecordBuilder` record (`headers().set()`
// of `@nats-io/transport-node`), and the responder, without the module, reads it with
// `NatsContext#getHeaders().get()` and answers it. Against nats-hop+module it leaves what the
// library costs beyond the header itself: NATS's encoding, parsing and decoding of one header is
// in both.
import { NatsRecordBuilder } from '@nestjs/microservices';
import { headers } from '@nats-io/transport-node';
import { createHop } from './nats-hop.mjs';

const HEADER = 'x-transaction-id';

export function create(context) {
  return createHop(context, {
    message: (id) => {
      const carried = headers();
      carried.set(HEADER, id);
      return new NatsRecordBuilder({}).setHeaders(carried).build();
    },
    reply: (_data, _deps, message) => ({ id: message.getHeaders()?.get(HEADER) }),
  });
}
