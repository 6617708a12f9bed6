// Looks into a profile that `npm run bench -- --profile adapter:variant` wrote: the functions with
// the most self time per request in the timed window, optionally of one category.
//
//   node bench/profile.mjs <profile dir> [--category sentry|nestjs-transaction-id|rxjs|…] [--top 30]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { categoryOf } from './lib/profile-summary.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { category: { type: 'string' }, top: { type: 'string', default: '30' } },
});
const dir = positionals[0];
if (!dir) {
  console.error('usage: node bench/profile.mjs <profile dir> [--category name] [--top n]');
  process.exit(2);
}
const file = readdirSync(dir).find((name) => /\.\d+\.0\.\d+\.cpuprofile$/.test(name));
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
const window = JSON.parse(readFileSync(join(dir, 'window.json'), 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));

const self = new Map();
let time = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  time += profile.timeDeltas[i];
  if (time < window.fromUs || time > window.toUs) continue;
  const { callFrame } = byId.get(profile.samples[i]);
  const category = categoryOf(callFrame);
  if (category === '(idle)' || (values.category && category !== values.category)) continue;
  const where = callFrame.url
    .replace(/^.*node_modules\//, '')
    .replace(/^file:\/\/.*\/bench\//, 'bench/');
  const key = `${callFrame.functionName || '(anonymous)'}  ${where}:${callFrame.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
}
console.log(`| µs/req | function | (${window.requests} requests)`);
for (const [key, us] of [...self].toSorted((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
  console.log(`| ${(us / window.requests).toFixed(2).padStart(7)} | ${key}`);
}
