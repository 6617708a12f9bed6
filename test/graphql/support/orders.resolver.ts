import 'reflect-metadata';
import {
  Args,
  Field,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Subscription,
} from '@nestjs/graphql';
import { TransactionContext } from 'nestjs-transaction-id';

@ObjectType()
export class Order {
  @Field(() => Int) n!: number;
  /** The transaction ID the field was resolved under. */
  @Field(() => String, { nullable: true }) id?: string;
}

/** A minimal pub/sub: subscribers pull events with `next()`, publishers push them. */
class Topic<T> {
  private readonly waiting = new Set<(value: T) => void>();
  private readonly queues = new Set<T[]>();

  publish(value: T): void {
    for (const queue of this.queues) queue.push(value);
    for (const wake of this.waiting) wake(value);
    this.waiting.clear();
  }

  subscribe(): AsyncIterableIterator<T> {
    const queue: T[] = [];
    this.queues.add(queue);
    const iterator: AsyncIterableIterator<T> = {
      next: () => {
        const value = queue.shift();
        if (value !== undefined) return Promise.resolve({ value, done: false });
        return new Promise((resolve) =>
          this.waiting.add((v) => {
            queue.shift();
            resolve({ value: v, done: false });
          }),
        );
      },
      return: () => {
        this.queues.delete(queue);
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}

const placed = new Topic<{ n: number }>();
let context: TransactionContext | undefined;

@Resolver(() => Order)
export class OrdersResolver {
  constructor(transaction: TransactionContext) {
    context = transaction;
  }

  @Query(() => Order)
  async order(@Args('n', { type: () => Int }) n: number): Promise<Order> {
    await new Promise((resolve) => setTimeout(resolve, n % 7));
    if (n < 0) throw new Error(`order ${n} failed in ${context!.id}`);
    return { n, id: context!.id };
  }

  @Mutation(() => Order)
  place(@Args('n', { type: () => Int }) n: number): Order {
    placed.publish({ n });
    return { n, id: context!.id };
  }

  @Subscription(() => Order, {
    // Runs for every event: under the subscribing connection's ID, not the publisher's.
    resolve: (event: { n: number }) => ({ n: event.n, id: context!.id }),
  })
  placed() {
    return placed.subscribe();
  }
}
