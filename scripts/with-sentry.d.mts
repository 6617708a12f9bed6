/** See with-sentry.mjs. */
export function sentrySdk(major: string): { dir: string; version: string };
