/**
 * The command line the `with-*` scripts share: `node scripts/with-X.mjs MAJOR COMMAND [ARGS...]`
 * prepares what MAJOR names, then runs COMMAND with the environment that prepares, passing on
 * signals and the exit code.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/**
 * Runs the command of this process's arguments under what `prepare(major)` returns: the
 * environment to add and what to say it runs on. `name` is the script's, for messages.
 */
export function runWith(name, prepare) {
  const [major, command, ...args] = process.argv.slice(2);
  if (command === undefined) {
    process.stderr.write(`usage: node scripts/${name}.mjs MAJOR COMMAND [ARGS...]\n`);
    process.exit(2);
  }
  let prepared;
  try {
    prepared = prepare(major);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : error}\n`);
    process.exit(1);
  }
  process.stderr.write(`[${name}] ${command} ${args.join(' ')} on ${prepared.on}\n`);
  const child = spawn(command, args, {
    stdio: 'inherit',
    env: { ...process.env, ...prepared.env },
    shell: process.platform === 'win32',
  });
  // Ctrl-C and CI's timeout reach the child through the process group; pass on the rest.
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    process.stderr.write(`${name}: cannot run ${command}: ${error.message}\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
}
