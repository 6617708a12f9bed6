import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { freePorts } from '../../fixtures/free-ports.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** `npm run sample`, left running: its gateway serves the page. */
export interface RunningSample {
  readonly gatewayUrl: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `npm run sample` as a user does (it builds what is stale, then starts orders and gateway)
 * and resolves once it runs, that is once it printed `Running until Ctrl-C.`.
 */
export async function startSample(env: Record<string, string>): Promise<RunningSample> {
  const [gatewayPort, ordersPort] = await freePorts(2);
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    GATEWAY_PORT: String(gatewayPort),
    ORDERS_PORT: String(ordersPort),
    ...env,
  };
  delete childEnv.SAMPLE_EXIT_AFTER_DEMO;
  // A process group of its own: stopping it reaches npm, the shell and run.mjs, which stops the
  // services it started.
  const child = spawn('npm', ['run', 'sample'], {
    cwd: root,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(-child.pid!, 'SIGTERM');
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  const text = () => stripVTControlCharacters(output);
  const running = new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (text().includes('Running until Ctrl-C.')) {
        clearInterval(check);
        resolve();
      }
    }, 200);
    void exited.then(() => {
      clearInterval(check);
      reject(new Error(`npm run sample exited:\n${text()}`));
    });
  });
  try {
    await running;
  } catch (error) {
    await stop();
    throw error;
  }
  return { gatewayUrl: `http://127.0.0.1:${gatewayPort}`, output: text, stop };
}
