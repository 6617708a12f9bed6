// Bench servers as child processes: start, wait for the port, read CPU time and peak RSS from
// /proc (outside the server, so measuring does not cost the server anything), stop.
import { spawn, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SERVERS = fileURLToPath(new URL('../servers/', import.meta.url));

let clockTicks;
/** Kernel clock ticks per second, the unit of utime/stime in /proc/<pid>/stat. */
export function clockTicksPerSecond() {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * CPU time of a process (all its threads) so far, in microseconds, with nanosecond resolution:
 * the sum of /proc/<pid>/task/<tid>/schedstat (time on CPU). Falls back to utime + stime of
 * /proc/<pid>/stat (10 ms ticks) where schedstat is not available.
 */
export function readCpuMicros(pid) {
  try {
    let nanos = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        nanos += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // The thread ended between listing and reading.
      }
    }
    if (nanos > 0) return nanos / 1000;
  } catch {
    // No schedstat: use the ticks.
  }
  return readStatCpuMicros(pid);
}

/** User + system CPU time of a process (all its threads) so far, in microseconds (tick resolution). */
export function readStatCpuMicros(pid) {
  const { user, system } = readStatTimes(pid);
  return user + system;
}

/**
 * User CPU time alone of a process (all its threads) so far, in microseconds (tick resolution):
 * without the kernel's share, which on loopback grows with the server's slowness itself (see
 * bench/README.md, "User time").
 */
export function readUserCpuMicros(pid) {
  return readStatTimes(pid).user;
}

function readStatTimes(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Field 2 (comm) may contain spaces: count fields from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const micros = (ticks) => (Number(ticks) * 1e6) / clockTicksPerSecond();
  return { user: micros(fields[11]), system: micros(fields[12]) }; // utime, stime (14 and 15)
}

/** Peak resident set size of a process so far, in bytes (VmHWM). */
export function readPeakRss(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/**
 * Starts one bench server. Resolves with `{ pid, port, url, stop() }` once it listens.
 *
 * @param {object} spec
 * @param {string} spec.server file of bench/servers/ without `.mjs`
 * @param {'express'|'fastify'} spec.adapter
 * @param {'none'|'traces0'|'notrace'|'errors-only'} spec.sentry
 * @param {string} [spec.sentryDsn]
 * @param {string} [spec.downstreamUrl]
 * @param {string} [spec.dist] snapshot of dist/ to load as `nestjs-transaction-id`
 * @param {number} [spec.cpu] CPU to pin the server to (taskset)
 * @param {string[]} [spec.nodeFlags] extra flags for node (`--expose-gc`, `--cpu-prof`…)
 * @param {string[]} [spec.wrap] a command that runs node (valgrind …)
 * @param {number} [spec.timeoutMs]
 */
export function startServer(spec) {
  const { server, adapter, sentry, cpu, nodeFlags = [], wrap = [], timeoutMs = 90_000 } = spec;
  const args = [
    ...nodeFlags,
    '--import',
    `${SERVERS}register-hooks.mjs`,
    ...(sentry === 'none' ? [] : ['--import', `${SERVERS}instrument.mjs`]),
    `${SERVERS}main.mjs`,
  ];
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    BENCH_SERVER: server,
    BENCH_ADAPTER: adapter,
    BENCH_SENTRY: sentry,
    BENCH_HIDE_SENTRY: sentry === 'none' ? '1' : '0',
    BENCH_SENTRY_DSN: spec.sentryDsn ?? '',
    BENCH_DOWNSTREAM_URL: spec.downstreamUrl ?? '',
    BENCH_DIST: spec.dist ?? '',
  };
  // Sentry reads these; a developer's shell must not change what is measured.
  for (const name of Object.keys(env)) {
    if (name.startsWith('SENTRY_')) delete env[name];
  }
  delete env.NODE_OPTIONS;

  const [command, ...commandArgs] = onCpu(cpu, [...wrap, process.execPath, ...args]);
  const child = spawn(command, commandArgs, { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk).slice(-8000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${adapter}:${server} did not start within ${timeoutMs} ms\n${output}`));
    }, timeoutMs);
    const early = (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(`${adapter}:${server} exited (${code ?? signal}) before listening\n${output}`),
      );
    };
    child.once('exit', early);
    child.on('message', (message) => {
      if (message?.type !== 'ready') return;
      clearTimeout(timer);
      child.off('exit', early);
      const url = `http://127.0.0.1:${message.port}`;
      resolve({
        pid: child.pid,
        port: message.port,
        url,
        output: () => output,
        cpuMicros: () => readCpuMicros(child.pid),
        statCpuMicros: () => readStatCpuMicros(child.pid),
        userCpuMicros: () => readUserCpuMicros(child.pid),
        peakRss: () => readPeakRss(child.pid),
        gcStats: () => askForGcStats(child),
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            try {
              child.send('stop');
            } catch {
              child.kill('SIGTERM');
            }
            const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            await exited;
            clearTimeout(killer);
          }
          return exited;
        },
      });
    });
  });
}

/**
 * The server's garbage collections so far (`{ minor, minorMs, major, majorMs }`), over IPC: what
 * a variant allocates shows in how often its young generation fills up, also where Sentry's
 * timers make instruction counts unrepeatable.
 */
function askForGcStats(child) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error('the server did not report its GC statistics'));
    }, 5000);
    const onMessage = (message) => {
      if (message?.type !== 'gc-stats') return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message.stats);
    };
    child.on('message', onMessage);
    try {
      child.send('gc-stats');
    } catch (error) {
      clearTimeout(timer);
      child.off('message', onMessage);
      reject(error); // the server is gone
    }
  });
}

/** Starts the downstream server of the outgoing variants; resolves with `{ pid, url, stop() }`. */
export function startDownstream() {
  const child = spawn(process.execPath, [`${SERVERS}downstream.mjs`], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const early = (code) => reject(new Error(`downstream server exited (${code})`));
    child.once('exit', early);
    child.on('message', (message) => {
      if (message?.type !== 'ready') return;
      child.off('exit', early);
      resolve({
        pid: child.pid,
        url: `http://127.0.0.1:${message.port}/`,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

/** A command line (`[command, ...args]`) that runs on `cpu` through taskset; as it is without one. */
function onCpu(cpu, argv) {
  return cpu === undefined ? argv : ['taskset', '-c', String(cpu), ...argv];
}

/**
 * Runs a node script to its end, on `cpu` when given, its stderr shown; resolves with its stdout,
 * rejects unless it exits with 0.
 */
export function runNodeScript(args, { cpu, name }) {
  const [command, ...commandArgs] = onCpu(cpu, [process.execPath, ...args]);
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${name} exited with ${code}`)),
    );
  });
}

/** Pins this process (the load generator) to one CPU; returns false when taskset failed. */
export function pinSelf(cpu) {
  try {
    execFileSync('taskset', ['-a', '-cp', String(cpu), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
