import { describe, expect, it } from 'vitest';
import { isPropagationTarget } from '../../lib/http/propagation-targets.js';

const ORDERS = 'http://127.0.0.1:3001/orders/42';
const PAYMENTS = 'http://localhost:3002/payments';
const PARTNER = 'https://api.partner.example/v1/hooks';

describe('isPropagationTarget', () => {
  it('allows every URL when no targets are configured', () => {
    for (const url of [ORDERS, PAYMENTS, PARTNER]) {
      expect(isPropagationTarget(url, undefined)).toBe(true);
    }
  });

  it('allows no URL with an empty list', () => {
    for (const url of [ORDERS, PAYMENTS, PARTNER]) {
      expect(isPropagationTarget(url, [])).toBe(false);
    }
  });

  it('matches a string target contained anywhere in the URL', () => {
    const targets = ['127.0.0.1:3001'];

    expect(isPropagationTarget(ORDERS, targets)).toBe(true);
    expect(isPropagationTarget('http://127.0.0.1:3002/orders', targets)).toBe(false);
    expect(isPropagationTarget('http://localhost:3001/orders', targets)).toBe(false);
  });

  it('compares strings case-sensitively', () => {
    expect(isPropagationTarget('http://API.internal/x', ['api.internal'])).toBe(false);
  });

  it('matches a RegExp target against the whole URL', () => {
    const targets = [/^http:\/\/localhost:\d+\//];

    expect(isPropagationTarget(PAYMENTS, targets)).toBe(true);
    expect(isPropagationTarget(ORDERS, targets)).toBe(false);
    expect(isPropagationTarget(`http://evil.example/?next=${PAYMENTS}`, targets)).toBe(false);
  });

  it('honours RegExp flags', () => {
    expect(isPropagationTarget('https://API.PARTNER.example/v1', [/api\.partner/i])).toBe(true);
  });

  it('allows a URL when any target matches', () => {
    const targets = ['127.0.0.1:3001', /partner\.example/];

    expect(isPropagationTarget(ORDERS, targets)).toBe(true);
    expect(isPropagationTarget(PARTNER, targets)).toBe(true);
    expect(isPropagationTarget(PAYMENTS, targets)).toBe(false);
  });
});
