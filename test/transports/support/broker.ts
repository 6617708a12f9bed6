import { connect } from 'node:net';

/**
 * Whether a broker listens on 127.0.0.1:`port`. A suite that needs it calls this first: under
 * `CI=true` an unreachable broker fails the run; elsewhere the suite skips, saying which broker
 * it missed in one line.
 *
 * @returns `true` when the suite should run.
 */
export async function brokerReachable(name: string, port: number): Promise<boolean> {
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
  if (reachable) return true;
  const message = `${name} is not reachable on 127.0.0.1:${port}`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: the broker must run).`);
  console.warn(`Skipping the ${name} suite: ${message}.`);
  return false;
}
