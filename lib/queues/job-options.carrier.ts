/**
 * BullMQ carries the transaction ID in the job's options, under the `header` name
 * (`job.opts['x-transaction-id']`): BullMQ stores options it does not know with the job and gives
 * them back on every attempt, so retries keep the ID, and the job's data stay exactly what the
 * producer passed, for processors without the library.
 */

/** Job options, as `Queue#add()` takes them and `job.opts` gives them back. */
type JobOptions = Record<string, unknown>;

/** A node of a flow, as `FlowProducer#add()` takes it. */
interface FlowNode {
  opts?: unknown;
  children?: unknown;
}

/** The raw ID a job carries: `undefined` when none, `null` when the value is not one string. */
export function readJobId(job: unknown, key: string): string | null | undefined {
  const opts = (job as { opts?: unknown } | null | undefined)?.opts;
  if (typeof opts !== 'object' || opts === null) return undefined;
  const value = (opts as JobOptions)[key];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : null;
}

/**
 * `opts` with the ID under `key`, unless the producer set that key itself (its value wins) or the
 * job repeats: each run of a repeatable job is work of its own, not the scheduling request's.
 * The caller's object is never changed.
 */
export function withJobId(opts: unknown, key: string, id: string | undefined): unknown {
  if (id === undefined) return opts;
  if (opts === undefined || opts === null) return { [key]: id };
  if (typeof opts !== 'object') return opts;
  const given = opts as JobOptions;
  if (given[key] !== undefined || given.repeat !== undefined) return opts;
  return { ...given, [key]: id };
}

/**
 * `flow` with the ID on the options of every job it makes (the node and all its `children`), by
 * `withJobId()`'s rule: each job of a flow is read on its own. The caller's tree is never changed.
 */
export function withFlowId(flow: unknown, key: string, id: string | undefined): unknown {
  if (id === undefined || typeof flow !== 'object' || flow === null) return flow;
  const node = flow as FlowNode;
  const copy: FlowNode = { ...node, opts: withJobId(node.opts, key, id) };
  if (Array.isArray(node.children)) {
    copy.children = node.children.map((child: unknown) => withFlowId(child, key, id));
  }
  return copy;
}
