// Turns the raw runs into summaries, paired ratios with verdicts, and markdown.
import { median, minMaxMedianConfidence, spread } from './stats.mjs';

const MB = 1024 * 1024;

/** The successful timed runs of one adapter × variant. */
function runsOf(runs, adapter, variant) {
  return runs.filter((r) => r.adapter === adapter && r.variant === variant && r.timed);
}

/** Per adapter × variant: medians (and ranges) over rounds. */
export function summarizeCells(runs, cells) {
  return cells.map(({ adapter, variant }) => {
    const all = runs.filter((r) => r.adapter === adapter && r.variant === variant.name);
    const timed = runsOf(runs, adapter, variant.name);
    return {
      adapter,
      variant: variant.name,
      rounds: timed.length,
      failed: all.length - timed.length,
      checksPassed: all.filter((r) => r.check?.ok).length,
      reqPerSec: spread(timed.map((r) => r.reqPerSec)),
      cpuUsPerReq: spread(timed.map((r) => r.cpuUsPerReq)),
      p50: spread(timed.map((r) => r.latency?.p50)),
      p99: spread(timed.map((r) => r.latency?.p99)),
      peakRss: spread(timed.map((r) => r.peakRss)),
      // Runs recorded before GC was counted have none.
      scavengesPerKReq: spread(timed.map((r) => r.scavengesPerKReq)),
      gcUsPerReq: spread(timed.map((r) => r.gcUsPerReq)),
    };
  });
}

/** A comparison's target on `adapter`: it may differ per adapter, `{ express: 0.9, fastify: 0.8 }`. */
function targetFor(comparison, adapter) {
  return typeof comparison.target === 'object' ? comparison.target[adapter] : comparison.target;
}

/**
 * Paired ratios: for each round that has both runs, variant against baseline. Throughput ratios
 * are > 1 when the variant is cheaper: req/s variant/baseline, CPU baseline/variant.
 */
export function compare(runs, adapter, comparison) {
  const pairs = [];
  const rounds = new Set(runs.map((r) => r.round));
  for (const round of rounds) {
    const a = runs.find(
      (r) =>
        r.round === round && r.adapter === adapter && r.variant === comparison.variant && r.timed,
    );
    const b = runs.find(
      (r) =>
        r.round === round && r.adapter === adapter && r.variant === comparison.baseline && r.timed,
    );
    if (a && b) pairs.push([a, b]);
  }
  if (pairs.length === 0) return undefined;
  return {
    adapter,
    ...comparison,
    target: targetFor(comparison, adapter),
    rounds: pairs.length,
    reqPerSecRatio: spread(pairs.map(([a, b]) => a.reqPerSec / b.reqPerSec)),
    cpuRatio: spread(pairs.map(([a, b]) => b.cpuUsPerReq / a.cpuUsPerReq)),
    addedUs: spread(pairs.map(([a, b]) => a.cpuUsPerReq - b.cpuUsPerReq)),
    // Runs recorded before user time was measured have none.
    userRatio: pairs.every(([a, b]) => a.userUsPerReq > 0 && b.userUsPerReq > 0)
      ? spread(pairs.map(([a, b]) => b.userUsPerReq / a.userUsPerReq))
      : undefined,
    p99Ratio: spread(pairs.map(([a, b]) => a.latency.p99 / b.latency.p99)),
  };
}

/**
 * ✅ the whole range over rounds meets the target; ➖ the median does, the range crosses it
 * (inconclusive); ❌ the median misses it.
 */
function verdictAtLeast(value, target, strict) {
  if (value === undefined) return '?';
  const ok = (x) => (strict ? x > target : x >= target);
  if (ok(value.min)) return '✅';
  return ok(value.median) ? '➖' : '❌';
}

function verdictAtMost(value, target) {
  if (value === undefined) return '?';
  if (value.max <= target) return '✅';
  return value.median <= target ? '➖' : '❌';
}

/** Verdicts of one comparison, per metric (undefined when the comparison has no such target). */
export function verdicts(result, judged) {
  if (!judged) return {};
  const out = {};
  if (result.target !== undefined) {
    out.cpu = verdictAtLeast(result.cpuRatio, result.target, result.strict);
    out.reqPerSec = verdictAtLeast(result.reqPerSecRatio, result.target, result.strict);
  }
  if (result.p99Max !== undefined) out.p99 = verdictAtMost(result.p99Ratio, result.p99Max);
  return out;
}

const fixed = (digits) => (x) => (x === undefined ? '—' : x.toFixed(digits));
const range = (value, format) =>
  value === undefined
    ? '—'
    : value.n > 1
      ? `${format(value.median)} [${format(value.min)}–${format(value.max)}]`
      : format(value.median);

/** Markdown table of the variants. */
export function cellsTable(summaries) {
  const lines = [
    '| Adapter | Variant | req/s | CPU µs/req | p50 ms | p99 ms | peak RSS MB | scavenges /1k req | GC µs/req | rounds |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of summaries) {
    const rounds = s.failed > 0 ? `${s.rounds} (+${s.failed} failed)` : String(s.rounds);
    lines.push(
      `| ${s.adapter} | ${s.variant} | ${range(s.reqPerSec, fixed(0))} | ${range(s.cpuUsPerReq, fixed(1))} | ` +
        `${s.p50 ? fixed(2)(s.p50.median) : '—'} | ${s.p99 ? fixed(2)(s.p99.median) : '—'} | ` +
        `${s.peakRss ? fixed(0)(s.peakRss.median / MB) : '—'} | ` +
        `${s.scavengesPerKReq ? fixed(2)(s.scavengesPerKReq.median) : '—'} | ` +
        `${s.gcUsPerReq ? fixed(1)(s.gcUsPerReq.median) : '—'} | ${rounds} |`,
    );
  }
  return lines.join('\n');
}

/** `≥ 0.98` or `> 1.00`: a comparison's lower bound, as the tables print it. */
function lowerBoundText({ target, strict }) {
  return `${strict ? '>' : '≥'} ${target.toFixed(2)}`;
}

function targetText(result) {
  const parts = [];
  if (result.target !== undefined) parts.push(lowerBoundText(result));
  if (result.p99Max !== undefined) parts.push(`p99 ≤ ${result.p99Max.toFixed(2)}`);
  return parts.join(', ') || 'info';
}

/** Markdown table of the paired comparisons. */
export function comparisonsTable(results, judged) {
  const lines = [
    '| Adapter | Variant vs baseline | CPU ratio | req/s ratio | µs/req added | p99 ratio | user-CPU ratio | Target | Verdict (CPU · req/s · p99) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const r of results) {
    const v = verdicts(r, judged);
    const verdict = judged
      ? [v.cpu, v.reqPerSec, v.p99].map((x) => x ?? '·').join(' ')
      : 'not judged';
    lines.push(
      `| ${r.adapter} | ${r.variant} vs ${r.baseline} | ${range(r.cpuRatio, fixed(3))} | ` +
        `${range(r.reqPerSecRatio, fixed(3))} | ${range(r.addedUs, fixed(1))} | ${range(r.p99Ratio, fixed(3))} | ` +
        `${r.userRatio ? range(r.userRatio, fixed(3)) : '—'} | ${targetText(r)} | ${verdict} |`,
    );
  }
  return lines.join('\n');
}

/** Markdown table of the memory check. */
export function memoryTable(results, target, judged) {
  const lines = [
    '| Adapter | Variant | requests | heap after first tenth MB | heap at end MB | growth | RSS at end MB | Verdict |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const m of results) {
    if (m.error) {
      lines.push(
        `| ${m.adapter} | ${m.variant} | — | — | — | — | — | failed: ${m.error.split('\n')[0]} |`,
      );
      continue;
    }
    const verdict = !judged ? 'not judged' : Math.abs(m.growth) <= target ? '✅' : '❌';
    lines.push(
      `| ${m.adapter} | ${m.variant} | ${m.requests} | ${(m.first.heapUsed / MB).toFixed(2)} | ` +
        `${(m.last.heapUsed / MB).toFixed(2)} | ${(m.growth * 100).toFixed(1)} % | ` +
        `${(m.last.rss / MB).toFixed(0)} | ${verdict} |`,
    );
  }
  return lines.join('\n');
}

/** Markdown table of the micro benchmark. */
export function microTable(rows) {
  const lines = ['| Operation | ns/op (mean) | p99 ns/op | ± % |', '| --- | ---: | ---: | ---: |'];
  for (const row of rows) {
    lines.push(
      `| ${row.name} | ${fixed(1)(row.nsPerOp)} | ${fixed(1)(row.p99NsPerOp)} | ${fixed(1)(row.rmePercent)} |`,
    );
  }
  return lines.join('\n');
}

/** One line on the noise of the A/A pair, and what the min–max range means. */
export function noiseText(aaResults, rounds) {
  const confidence = Math.round(minMaxMedianConfidence(rounds) * 100);
  const parts = aaResults.map(
    (r) =>
      `${r.adapter} ${r.variant} vs ${r.baseline}: CPU ratio ${range(r.cpuRatio, fixed(3))}, ` +
      `req/s ratio ${range(r.reqPerSecRatio, fixed(3))}, p99 ratio ${range(r.p99Ratio, fixed(3))}`,
  );
  if (rounds < 2)
    return parts.length > 0 ? `A/A (two identical servers): ${parts.join('; ')}.` : '';
  return (
    (parts.length > 0 ? `A/A (two identical servers): ${parts.join('; ')}. ` : '') +
    `With ${rounds} rounds, a ratio's [min–max] holds its true median with ${confidence} % confidence ` +
    '(distribution-free), so ✅ means the target holds at that confidence.'
  );
}

/** Median of the background load (CPU share of other processes) over the runs. */
export function backgroundLoad(runs) {
  return median(runs.filter((r) => r.timed).map((r) => r.otherLoad));
}

/**
 * Instruction-count ratios (callgrind, `--parts instructions`): one count per variant, no rounds.
 * > 1 when the variant is cheaper, as the CPU ratio.
 */
export function compareInstructions(records, adapter, comparison) {
  const find = (name) =>
    records.find((r) => r.adapter === adapter && r.variant === name && r.instructions);
  const a = find(comparison.variant);
  const b = find(comparison.baseline);
  if (!a || !b) return undefined;
  return {
    adapter,
    ...comparison,
    target: targetFor(comparison, adapter),
    ratio: b.instructions / a.instructions,
    added: a.instructions - b.instructions,
  };
}

/** Markdown tables of the instruction counts and their comparisons. */
export function instructionsTables(records, comparisons, judged) {
  const thousands = (x) => (x / 1000).toFixed(1);
  const compiled = records.some((r) => r.compile !== undefined);
  const lines = [
    `| Adapter | Variant | instructions/req (k) | windows (k) | window spread |${compiled ? ' warm-up, compilation included (k/req) |' : ''}`,
    `| --- | --- | ---: | --- | ---: |${compiled ? ' ---: |' : ''}`,
  ];
  for (const r of records) {
    if (r.error) {
      lines.push(`| ${r.adapter} | ${r.variant} | failed: ${r.error.split('\n')[0]} | — | — |`);
      continue;
    }
    // How far the windows lie apart: the count is steady state only if they agree.
    const spreadPct = ((Math.max(...r.windows) - Math.min(...r.windows)) / r.instructions) * 100;
    lines.push(
      `| ${r.adapter} | ${r.variant} | ${thousands(r.instructions)} | ${r.windows.map(thousands).join(' ')} | ${spreadPct.toFixed(2)} % |` +
        (compiled ? ` ${r.compile === undefined ? '—' : thousands(r.compile)} |` : ''),
    );
  }
  lines.push(
    '',
    '| Adapter | Variant vs baseline | instruction ratio | k instructions/req added | Target | Verdict |',
    '| --- | --- | ---: | ---: | --- | --- |',
  );
  for (const c of comparisons) {
    const judgedHere = judged && c.target !== undefined;
    // One count, no rounds: the range is the value itself, so the verdict is ✅ or ❌.
    const single = { min: c.ratio, median: c.ratio };
    lines.push(
      `| ${c.adapter} | ${c.variant} vs ${c.baseline} | ${c.ratio.toFixed(3)} | ${thousands(c.added)} | ` +
        `${c.target === undefined ? 'info' : lowerBoundText(c)} | ` +
        `${judgedHere ? verdictAtLeast(single, c.target, c.strict) : '·'} |`,
    );
  }
  return lines.join('\n');
}
