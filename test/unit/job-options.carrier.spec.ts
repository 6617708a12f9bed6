import { describe, expect, it } from 'vitest';
import { readJobId, withFlowId, withJobId } from '../../lib/queues/job-options.carrier.js';

const KEY = 'x-transaction-id';

describe('withJobId', () => {
  it('adds the ID to a copy of the options, or to new options', () => {
    const opts = { attempts: 3 };
    expect(withJobId(opts, KEY, 'id-1')).toEqual({ attempts: 3, [KEY]: 'id-1' });
    expect(opts).toEqual({ attempts: 3 });
    expect(withJobId(undefined, KEY, 'id-1')).toEqual({ [KEY]: 'id-1' });
  });

  it('adds nothing outside a unit of work', () => {
    const opts = { attempts: 3 };
    expect(withJobId(opts, KEY, undefined)).toBe(opts);
    expect(withJobId(undefined, KEY, undefined)).toBeUndefined();
  });

  it("keeps the producer's own value", () => {
    const opts = { [KEY]: 'own' };
    expect(withJobId(opts, KEY, 'id-1')).toBe(opts);
  });

  it('leaves repeatable jobs alone: each run is work of its own', () => {
    const opts = { repeat: { every: 1_000 } };
    expect(withJobId(opts, KEY, 'id-1')).toBe(opts);
  });
});

describe('withFlowId', () => {
  const flow = () => ({
    name: 'parent',
    queueName: 'q',
    opts: { attempts: 2 },
    children: [
      {
        name: 'child',
        queueName: 'q',
        opts: { [KEY]: 'own' },
        children: [{ name: 'grandchild', queueName: 'q' }],
      },
    ],
  });

  it("puts the ID on every node's options, the node's own value winning, in a copy", () => {
    const given = flow();
    expect(withFlowId(given, KEY, 'id-1')).toEqual({
      name: 'parent',
      queueName: 'q',
      opts: { attempts: 2, [KEY]: 'id-1' },
      children: [
        {
          name: 'child',
          queueName: 'q',
          opts: { [KEY]: 'own' },
          children: [{ name: 'grandchild', queueName: 'q', opts: { [KEY]: 'id-1' } }],
        },
      ],
    });
    expect(given).toEqual(flow());
  });

  it('adds nothing outside a unit of work', () => {
    const given = flow();
    expect(withFlowId(given, KEY, undefined)).toBe(given);
  });
});

describe('readJobId', () => {
  it('reads a string, refuses any other value', () => {
    expect(readJobId({ opts: { [KEY]: 'id-1' } }, KEY)).toBe('id-1');
    expect(readJobId({ opts: { [KEY]: 42 } }, KEY)).toBeNull();
    expect(readJobId({ opts: { [KEY]: ['a', 'b'] } }, KEY)).toBeNull();
    expect(readJobId({ opts: {} }, KEY)).toBeUndefined();
    expect(readJobId({}, KEY)).toBeUndefined();
    expect(readJobId(undefined, KEY)).toBeUndefined();
  });
});
