import { describe, expect, it } from 'vitest';
import { targetFilter } from '../../lib/browser/propagation-targets.js';

const PAGE = 'https://shop.example.com';
const allows = (targets: Array<string | RegExp> | undefined, url: string) =>
  targetFilter(targets, PAGE)(new URL(url));

describe('browser propagation targets', () => {
  it('allow the page’s own origin, and by default nothing else', () => {
    expect(allows(undefined, `${PAGE}/checkout`)).toBe(true);
    expect(allows([], 'https://api.example.com/checkout')).toBe(false);
    expect(allows([], 'http://shop.example.com/checkout')).toBe(false);
    expect(allows([], 'https://shop.example.com:8443/checkout')).toBe(false);
  });

  it('compare listed origins exactly, never as substrings', () => {
    const targets = ['https://api.example.com'];
    expect(allows(targets, 'https://api.example.com/orders?x=1')).toBe(true);
    expect(allows(targets, 'https://API.example.com/orders')).toBe(true);
    expect(allows(targets, 'https://evil.example/?https://api.example.com')).toBe(false);
    expect(allows(targets, 'https://api.example.com.evil.example/')).toBe(false);
  });

  it('test RegExps against the absolute URL, global ones included', () => {
    const pattern = /^https:\/\/[a-z]+\.example\.com\/api\//g;
    expect(allows([pattern], 'https://eu.example.com/api/orders')).toBe(true);
    expect(allows([pattern], 'https://eu.example.com/api/orders')).toBe(true);
    expect(allows([pattern], 'https://eu.example.com/other')).toBe(false);
  });

  it('refuse what is neither an origin nor a RegExp, naming the option', () => {
    for (const bad of [
      'api.example.com',
      'https://api.example.com/v1',
      '*',
      42 as unknown as string,
    ]) {
      expect(() => targetFilter([bad], PAGE)).toThrow(
        /"propagationTargets" must be origins or RegExps/,
      );
    }
    expect(() => targetFilter('https://api.example.com' as never, PAGE)).toThrow(
      /"propagationTargets" must be an array/,
    );
  });
});
