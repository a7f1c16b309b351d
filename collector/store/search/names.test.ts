import { describe, expect, it } from 'vitest';
import { keyId, monthEndOf, monthOf, names, timeOfUuidv7, uuidFrom, uuidv7At } from './names.js';

describe('index names and ids', () => {
  it('puts a time in its UTC month', () => {
    const n = names('canhgac');
    expect(n.findingsMonth('2024-05-31T23:59:59.999Z')).toBe('canhgac-findings-2024.05');
    expect(n.findingsMonth('2024-06-01T06:00:00+07:00')).toBe('canhgac-findings-2024.05');
    expect(n.alertsMonth(Date.UTC(2001, 0, 1))).toBe('canhgac-alerts-2001.01');
    expect(monthOf('+012345-01-01T00:00:00.000Z')).toBe('9999.01');
    expect(monthEndOf('canhgac-findings-2024.12')).toBe(Date.UTC(2025, 0, 1));
    expect(monthEndOf('canhgac-findings-pinned')).toBeUndefined();
  });

  it('alert ids are UUIDv7 that name their month', () => {
    const ms = Date.UTC(2025, 2, 14, 1, 2, 3, 4);
    const id = uuidv7At(ms);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(timeOfUuidv7(id)).toBe(ms);
    expect(uuidv7At(ms)).not.toBe(id);
    expect(timeOfUuidv7('alert-123')).toBeUndefined();
    expect(timeOfUuidv7('6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBeUndefined();
  });

  it('derived ids are stable and short', () => {
    expect(keyId('a', 'b')).toBe(keyId('a', 'b'));
    expect(keyId('a', 'b')).not.toBe(keyId('ab', ''));
    expect(keyId('x'.repeat(10_000)).length).toBe(43);
    expect(uuidFrom('alert:1:v2')).toBe(uuidFrom('alert:1:v2'));
    expect(uuidFrom('alert:1:v2')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8/);
  });
});
