// Small statistics over rounds: medians, ranges and exact percentiles.

/** Median of finite numbers (`undefined` when there are none). */
export function median(values) {
  const sorted = values.filter(Number.isFinite).toSorted((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Median, min and max of finite numbers, with their count. */
export function spread(values) {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return undefined;
  return {
    median: median(finite),
    min: Math.min(...finite),
    max: Math.max(...finite),
    n: finite.length,
  };
}

/**
 * Percentile `p` (0–100) of a sorted array, by the nearest-rank method: the smallest value with at
 * least p % of the values at or below it. Exact on per-response timings, no histogram buckets.
 */
export function percentileOfSorted(sorted, p) {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/**
 * Confidence that the true median lies within [min, max] of n independent rounds:
 * 1 − 2 · 0.5ⁿ (distribution-free: the median is outside only if every round falls on one side).
 */
export function minMaxMedianConfidence(n) {
  return n < 2 ? 0 : 1 - 2 * 0.5 ** n;
}
