/** What a process wrote to stdout and stderr while captured. */
export interface CapturedOutput {
  /** The lines written so far, stdout and stderr interleaved as written. */
  lines(): string[];
  restore(): void;
}

/**
 * Captures what is written to `process.stdout` and `process.stderr` (where Nest's
 * `ConsoleLogger` writes), without passing it on.
 */
export function captureOutput(): CapturedOutput {
  let text = '';
  const streams = [process.stdout, process.stderr] as const;
  const originals = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof stream.write;
  }
  return {
    lines: () => text.split('\n').filter((line) => line !== ''),
    restore: () => streams.forEach((stream, n) => (stream.write = originals[n]!)),
  };
}
