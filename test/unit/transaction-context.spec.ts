import 'reflect-metadata';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestingModule } from '@nestjs/testing';
import { defer, delay, firstValueFrom, map, of, switchMap } from 'rxjs';
import { TransactionContext } from '../../lib/index.js';
import { compileTransactionModule, seededRandom, UUID } from './support/testing-module.js';

let moduleRef: TestingModule;
let context: TransactionContext;

beforeAll(async () => {
  moduleRef = await compileTransactionModule();
  context = moduleRef.get(TransactionContext);
});

afterAll(() => moduleRef.close());

describe('TransactionContext', () => {
  it('has no ID outside any unit of work', async () => {
    expect(context.id).toBeUndefined();
    await nextTurn();
    expect(context.id).toBeUndefined();
  });

  describe('run() with an explicit ID', () => {
    it('gives that ID to fn, through awaits, timers and rxjs pipes', async () => {
      const seen = await context.run('job-7', async () => {
        const ids = [context.id];
        await sleep(1);
        ids.push(context.id);
        ids.push(
          await new Promise<string | undefined>((resolve) =>
            setTimeout(() => resolve(context.id), 1),
          ),
        );
        ids.push(
          await firstValueFrom(
            of(1).pipe(
              delay(1),
              switchMap(() => defer(async () => context.id)),
            ),
          ),
        );
        return ids;
      });

      expect(seen).toEqual(['job-7', 'job-7', 'job-7', 'job-7']);
    });

    it("returns fn's result, and a rejected promise as it is", async () => {
      expect(context.run('job-1', () => 42)).toBe(42);
      await expect(context.run('job-2', async () => 'done')).resolves.toBe('done');
      await expect(
        context.run('job-3', async () => {
          throw new Error('job failed');
        }),
      ).rejects.toThrow('job failed');
    });

    it('leaves no ID behind, even when fn throws', () => {
      expect(() =>
        context.run('job-4', () => {
          throw new Error('sync failure');
        }),
      ).toThrow('sync failure');
      expect(context.id).toBeUndefined();
    });

    it('refuses an invalid ID with a TypeError and does not call fn', () => {
      for (const bad of ['', 'has space', 'a'.repeat(129), 'x\r\ny']) {
        let called = false;

        expect(() =>
          context.run(bad, () => {
            called = true;
          }),
        ).toThrow(
          new TypeError(
            'nestjs-transaction-id: TransactionContext.run() was given an invalid transaction ID.',
          ),
        );
        expect(called).toBe(false);
      }
    });
  });

  describe('run() without an ID', () => {
    it('makes a fresh one for each run', () => {
      const first = context.run(undefined, () => context.id);
      const second = context.run(undefined, () => context.id);

      expect(first).toMatch(UUID);
      expect(second).toMatch(UUID);
      expect(second).not.toBe(first);
    });
  });

  describe('nested run()', () => {
    it("gives the inner work its own ID and gives the outer work's back afterwards", async () => {
      const seen: Array<[string, string | undefined]> = [];

      await context.run('outer', async () => {
        seen.push(['outer before', context.id]);
        const inner = context.run('inner', async () => {
          seen.push(['inner start', context.id]);
          await sleep(5);
          seen.push(['inner after await', context.id]);
        });
        seen.push(['outer while inner waits', context.id]);
        await inner;
        seen.push(['outer after inner', context.id]);
        await context.run(undefined, async () => {
          await nextTurn();
          seen.push(['fresh inner', context.id]);
        });
      });

      expect(seen.slice(0, 5)).toEqual([
        ['outer before', 'outer'],
        ['inner start', 'inner'],
        ['outer while inner waits', 'outer'],
        ['inner after await', 'inner'],
        ['outer after inner', 'outer'],
      ]);
      expect(seen[5][1]).toMatch(UUID);
      expect(context.id).toBeUndefined();
    });
  });

  describe('isolation', () => {
    it('keeps 300 interleaved flows apart, whatever order their awaits resume in', async () => {
      const random = seededRandom(20_240_531);
      const FLOWS = 300;
      const STEPS = 6;
      const waits = [
        () => sleep(Math.floor(random() * 4)),
        () => nextTurn(),
        () => Promise.resolve(),
        () => new Promise<void>((resolve) => queueMicrotask(resolve)),
        () =>
          firstValueFrom(
            of(null).pipe(
              delay(Math.floor(random() * 3)),
              map(() => undefined),
            ),
          ),
      ];
      const mismatches: string[] = [];
      let started = 0;
      let maxConcurrent = 0;
      let running = 0;

      const flow = (index: number) =>
        context.run(index % 3 === 0 ? undefined : `flow-${index}`, async () => {
          const own = context.id;
          running++;
          started++;
          maxConcurrent = Math.max(maxConcurrent, running);
          for (let step = 0; step < STEPS; step++) {
            await waits[Math.floor(random() * waits.length)]();
            if (context.id !== own) mismatches.push(`flow ${index} step ${step}: ${context.id}`);
          }
          running--;
          return own;
        });

      const ids = await Promise.all(Array.from({ length: FLOWS }, (_, index) => flow(index)));

      expect(mismatches).toEqual([]);
      expect(started).toBe(FLOWS);
      // All flows were in flight together: they did interleave.
      expect(maxConcurrent).toBe(FLOWS);
      expect(new Set(ids).size).toBe(FLOWS);
      expect(ids.filter((id) => id?.startsWith('flow-'))).toHaveLength(200);
      expect(context.id).toBeUndefined();
    });
  });
});

describe('TransactionContext with a custom validate', () => {
  it('accepts in run() what validate accepts, and refuses the rest', async () => {
    const ref = await compileTransactionModule({
      generate: () => `req-${Math.random().toString(36).slice(2)}`,
      validate: (value) => value.startsWith('req-'),
    });
    try {
      const custom = ref.get(TransactionContext);

      expect(custom.run('req-a b', () => custom.id)).toBe('req-a b');
      expect(custom.run(undefined, () => custom.id)).toMatch(/^req-/);
      expect(() => custom.run('550e8400-e29b-41d4-a716-446655440000', () => 1)).toThrow(TypeError);
    } finally {
      await ref.close();
    }
  });
});
