import { afterEach, describe, expect, it, vi } from 'vitest';
import { brokerReachable } from '../fixtures/broker.js';

// The one check every broker suite starts with: a broker that does not answer skips the suite
// with one line naming it, except under CI=true, where it fails the run.

const CLOSED = 'nats://127.0.0.1:1'; // nothing listens on port 1

describe('brokerReachable', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('outside CI: false, with one line naming the broker', async () => {
    vi.stubEnv('CI', '');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(await brokerReachable('NATS', CLOSED)).toBe(false);
    expect(warn.mock.calls).toEqual([
      [expect.stringContaining(`NATS is not reachable at ${CLOSED}`)],
    ]);
  });

  it('under CI=true: fails', async () => {
    vi.stubEnv('CI', 'true');
    await expect(brokerReachable('NATS', CLOSED)).rejects.toThrow(
      `NATS is not reachable at ${CLOSED}: the CI run needs it.`,
    );
  });
});
