import { describe, expect, it } from 'vitest';
import { redact } from './logger.js';

describe('log redaction', () => {
  it('hides values of secret fields at any depth and keeps ids', () => {
    const out = redact({ token: 'cgt_abc', 'token.id': 'a1', es: { password: 'p', user: 'u' }, list: [{ api_key: 'k' }] }) as Record<string, unknown>;
    expect(out.token).toBe('[redacted]');
    expect(out['token.id']).toBe('a1');
    expect(out.es).toEqual({ password: '[redacted]', user: 'u' });
    expect(out.list).toEqual([{ api_key: '[redacted]' }]);
    expect(JSON.stringify(out)).not.toMatch(/cgt_abc|"p"|"k"/);
  });
});
