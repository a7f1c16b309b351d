import { describe, expect, it } from 'vitest';
import { PowerShellJsonError, psDate, psEnum, psGet, psInt, psRows } from './powershell-json.js';

describe('PowerShell ConvertTo-Json quirks', () => {
  it('returns an array for one object, several, none (empty output or null), and skips a BOM', () => {
    expect(psRows('')).toEqual([]);
    expect(psRows('  \r\n')).toEqual([]);
    expect(psRows('null')).toEqual([]);
    expect(psRows('\uFEFF{\r\n    "A":  1\r\n}\r\n')).toEqual([{ A: 1 }]);
    expect(psRows('[{"A":1},{"A":2}]')).toHaveLength(2);
    expect(() => psRows('Get-HotFix : access denied')).toThrow(PowerShellJsonError);
  });

  it('reads /Date(ms)/ bare, escaped, with an offset, and in the { value, DateTime } wrapper', () => {
    const t = '2022-10-24T00:44:10.000Z';
    expect(psDate('/Date(1666572250000)/')?.toISOString()).toBe(t);
    expect(psDate('\\/Date(1666572250000)\\/')?.toISOString()).toBe(t);
    expect(psDate('/Date(1666572250000+0200)/')?.toISOString()).toBe(t);
    expect(psDate({ value: '/Date(1666572250000)/', DateTime: 'Monday, October 24, 2022 2:44:10 AM' })?.toISOString()).toBe(t);
    expect(psDate('Monday, October 24, 2022')).toBeUndefined();
    expect(psDate(null)).toBeUndefined();
  });

  it('matches property names without case, integers from numbers or strings, enums from numbers or names', () => {
    expect(psGet({ HotFixId: 'KB1' }, 'HotFixID')).toBe('KB1');
    expect(psInt('17763')).toBe(17763);
    expect(psInt(720)).toBe(720);
    expect(psInt('17763a')).toBeUndefined();
    const names = { 2: 'Listen', 5: 'Established' } as const;
    expect(psEnum(2, names)).toBe('Listen');
    expect(psEnum('listen', names)).toBe('Listen');
    expect(psEnum(3, names)).toBeUndefined();
  });
});
