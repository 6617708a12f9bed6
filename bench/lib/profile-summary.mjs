// Reads a V8 .cpuprofile (from `node --cpu-prof`) and says where CPU time went per request: by
// package, and for the library, by function, counting what the library's own calls cost
// (Sentry scope calls, AsyncLocalStorage, crypto, setHeader…) but not the application the
// library hands the request to.

/** Package-level category of a frame. */
export function categoryOf(callFrame) {
  const { url, functionName } = callFrame;
  if (url === '') {
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(program)') return '(program)';
    if (functionName === '(garbage collector)') return '(gc)';
    if (functionName === '(root)') return '(root)';
    return '(native)';
  }
  if (url.includes('/.dist-snapshot/') || /\/work\/[^/]+\/dist\//.test(url)) {
    return 'nestjs-transaction-id';
  }
  if (url.includes('/bench/servers/')) return 'bench server';
  const inModules = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (inModules) {
    const name = inModules[1];
    if (name.startsWith('@sentry/') || name.startsWith('@opentelemetry/')) return 'sentry';
    if (name.startsWith('@nestjs/')) return name;
    return name;
  }
  if (url.startsWith('node:')) return 'node core';
  return 'other';
}

/**
 * Frames of the application or its framework: where the library hands the request over. (rxjs is
 * not one: the library's own `pipe()`/`subscribe()` calls are its cost; the handler's rxjs chain
 * sits under Nest frames, which stop the walk first.)
 */
function isHandOver(category, callFrame) {
  if (callFrame.functionName === 'emit' && category !== 'nestjs-transaction-id') return true;
  return (
    category.startsWith('@nestjs/') ||
    category === 'bench server' ||
    category === 'express' ||
    category === 'router' ||
    category === 'fastify' ||
    category === 'find-my-way' ||
    category === 'avvio' ||
    category === 'body-parser' ||
    category === 'nestjs-cls'
  );
}

/**
 * Summarises a profile over the samples inside [fromUs, toUs] (V8 profile timestamps, µs on the
 * monotonic clock) when given.
 *
 * @returns {{ windowMs: number, busyMs: number, byCategory: Record<string, number>,
 *   library: Array<{ fn: string, selfMs: number }>, libraryMs: number }}
 */
export function summarizeProfile(profile, { fromUs, toUs } = {}) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const categories = new Map(profile.nodes.map((node) => [node.id, categoryOf(node.callFrame)]));

  // Which library function, if any, each leaf node's time belongs to (memoised per node).
  const libraryOwner = new Map();
  function ownerOf(id) {
    if (libraryOwner.has(id)) return libraryOwner.get(id);
    let owner = null;
    for (let current = id; current !== undefined; current = parent.get(current)) {
      const node = byId.get(current);
      const category = categories.get(current);
      if (category === 'nestjs-transaction-id') {
        const { functionName, url, lineNumber } = node.callFrame;
        const file = url.slice(url.lastIndexOf('/') + 1);
        owner = `${functionName || '(anonymous)'} (${file}:${lineNumber + 1})`;
        break;
      }
      if (isHandOver(category, node.callFrame)) break;
    }
    libraryOwner.set(id, owner);
    return owner;
  }

  const byCategory = {};
  const byLibraryFunction = {};
  let time = profile.startTime;
  let windowUs = 0;
  let busyUs = 0;
  let libraryUs = 0;
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    time += timeDeltas[i];
    // A sample stands for the time until the next one.
    const duration = i + 1 < samples.length ? timeDeltas[i + 1] : 0;
    if (fromUs !== undefined && (time < fromUs || time > toUs)) continue;
    windowUs += duration;
    const id = samples[i];
    const category = categories.get(id);
    byCategory[category] = (byCategory[category] ?? 0) + duration;
    if (category === '(idle)') continue;
    busyUs += duration;
    const owner = category.startsWith('(') && category !== '(native)' ? null : ownerOf(id);
    if (owner !== null) {
      libraryUs += duration;
      byLibraryFunction[owner] = (byLibraryFunction[owner] ?? 0) + duration;
    }
  }
  const ms = (us) => us / 1000;
  return {
    windowMs: ms(windowUs),
    busyMs: ms(busyUs),
    libraryMs: ms(libraryUs),
    byCategory: Object.fromEntries(
      Object.entries(byCategory)
        .toSorted((a, b) => b[1] - a[1])
        .map(([name, us]) => [name, ms(us)]),
    ),
    library: Object.entries(byLibraryFunction)
      .toSorted((a, b) => b[1] - a[1])
      .map(([fn, us]) => ({ fn, selfMs: ms(us) })),
  };
}
