// Micro benchmark (tinybench) of the per-request steps of the library, in ns per operation:
// reading the header, validating it, generating an ID, settling it, entering the async context.
//
//   node bench/micro.mjs [--time <ms per task>] [--dist <dir>] [--json]
//
// run.mjs runs it as a child process with --json (and the dist/ snapshot of its run).
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Bench } from 'tinybench';

const { values } = parseArgs({
  options: {
    time: { type: 'string', default: '300' },
    dist: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const dist = values.dist ?? fileURLToPath(new URL('../dist/', import.meta.url));
const load = (path) => import(pathToFileURL(join(dist, path)).href);

const { readTransactionHeader } = await load('http/read-transaction-header.js');
const { TransactionIdPolicy } = await load('id/transaction-id.policy.js');
const { resolveTransactionOptions } = await load('options/transaction-options.js');
const { TransactionContext } = await load('context/transaction-context.js');
const { UnitOfWork } = await load('context/unit-of-work.js');

const options = resolveTransactionOptions({});
const policy = new TransactionIdPolicy(options);
const work = new UnitOfWork(policy, options, undefined);
const context = new TransactionContext(policy, work);
const HEADER = 'x-transaction-id';
const VALID = '9c1d1f5e-5d0c-4a8e-9b1e-2f3a4b5c6d7e';
const withId = { headers: { [HEADER]: VALID }, rawHeaders: ['X-Transaction-Id', VALID] };
const withoutId = { headers: { host: '127.0.0.1' }, rawHeaders: ['Host', '127.0.0.1'] };
const joined = {
  headers: { [HEADER]: 'a-1, b-2' },
  rawHeaders: ['Host', 'x', 'X-Transaction-Id', 'a-1', 'X-Transaction-Id', 'b-2'],
};

// Each task repeats its operation BATCH times per sample, so the timer's own cost (tens of ns)
// does not swamp operations that take a few ns.
const BATCH = 1000;
let sink;
const tasks = {
  'readTransactionHeader (present)': () => readTransactionHeader(withId, HEADER),
  'readTransactionHeader (absent)': () => readTransactionHeader(withoutId, HEADER),
  'readTransactionHeader (repeated lines)': () => readTransactionHeader(joined, HEADER),
  'policy.isValid (UUID)': () => policy.isValid(VALID),
  'policy.isValid (invalid)': () => policy.isValid('bad id!'),
  'policy.settle (valid incoming)': () => policy.settle(VALID),
  'policy.settle (none: generate)': () => policy.settle(undefined),
  'crypto.randomUUID (reference)': () => randomUUID(),
  'unit of work: run (no Sentry)': () => work.run({ id: VALID, header: HEADER }, () => context.id),
};

const bench = new Bench({
  time: Number(values.time),
  warmupTime: Math.min(100, Number(values.time)),
});
for (const [name, op] of Object.entries(tasks)) {
  bench.add(name, () => {
    for (let i = 0; i < BATCH; i++) sink = op();
  });
}
await bench.run();

const rows = bench.tasks.map((task) => {
  const latency = task.result?.latency;
  return {
    name: task.name,
    nsPerOp: latency ? (latency.mean * 1e6) / BATCH : undefined,
    p99NsPerOp: latency ? (latency.p99 * 1e6) / BATCH : undefined,
    rmePercent: latency?.rme,
    samples: latency?.samplesCount ?? latency?.df + 1,
  };
});
if (sink === Symbol.for('never')) console.log(sink); // keeps `sink` observable

if (values.json) {
  process.stdout.write(JSON.stringify(rows));
} else {
  console.log('| Operation | ns/op | p99 ns/op | ± % |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const row of rows) {
    console.log(
      `| ${row.name} | ${row.nsPerOp?.toFixed(1)} | ${row.p99NsPerOp?.toFixed(1)} | ${row.rmePercent?.toFixed(1)} |`,
    );
  }
}
