/** Types of browser-size.mjs, for the test that keeps the size in check. */
export declare const BROWSER_SIZE_CASES: Record<string, string>;

/** Minified and gzipped bytes of each case of `BROWSER_SIZE_CASES`, and the minified code. */
export declare function measureBrowserSize(): Promise<
  Record<string, { minified: number; gzipped: number; code: string }>
>;
