/**
 * Tables with Vietnamese text: columns line up whether the text is precomposed (NFC) or decomposed
 * (NFD, as macOS file names are), and long cells are cut without splitting a letter from its marks.
 * The oracle for "lines up" is Python's unicodedata (East Asian width, combining class), when python3
 * is on the machine; the Vietnamese strings are hand-written (they are the titles shipped in rules/).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { displayWidth, table } from './table.js';

const python = ((): boolean => {
  try {
    execFileSync('python3', ['-c', 'import unicodedata'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Display width of each line according to Python's unicodedata (independent of table.ts). */
function pythonWidths(lines: string[]): number[] {
  const script = [
    'import sys, json, unicodedata',
    'def w(s):',
    '    n = 0',
    '    for c in s:',
    "        if unicodedata.combining(c) or unicodedata.category(c) in ('Mn', 'Me', 'Cf'): continue",
    "        n += 2 if unicodedata.east_asian_width(c) in ('W', 'F') else 1",
    '    return n',
    'print(json.dumps([w(l) for l in json.loads(sys.stdin.read())]))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify(lines), encoding: 'utf8' })) as number[];
}

/**
 * Where each column starts, in display columns by Python's count of the text before it, on the header
 * line and the data lines (the line of dashes, line 2, is skipped).
 */
function columnStarts(out: string, cells: string[][]): number[][] {
  const lines = out.split('\n').filter((_, i) => i !== 1);
  return cells.map((row, r) => {
    const line = lines[r]!;
    let from = 0;
    const prefixes: string[] = [];
    for (const cell of row.map((c) => c.normalize('NFC'))) {
      const at = line.indexOf(cell, from);
      expect(at, `"${cell}" on line ${r + 1}`).toBeGreaterThanOrEqual(0);
      prefixes.push(line.slice(0, at));
      from = at + cell.length;
    }
    return pythonWidths(prefixes);
  });
}

const VI = [
  ['cao', 'Tường lửa trên máy mặc định cho phép kết nối đến không được yêu cầu', 'may-tram-01'],
  ['trung bình', 'Tệp hosts bị thay đổi', 'máy-chủ-đà-nẵng'],
  ['nghiêm trọng', 'Lỗ hổng nghiêm trọng hoặc đang bị khai thác chưa được vá quá 7 ngày', 'pc'],
];

describe('table with Vietnamese text', () => {
  it('counts precomposed and decomposed Vietnamese the same, one column per letter', () => {
    expect(displayWidth('Tường lửa')).toBe(9);
    expect(displayWidth('Tường lửa'.normalize('NFD').normalize('NFC'))).toBe(9);
    expect(displayWidth('漢字')).toBe(4);
  });

  it.skipIf(!python)('aligns NFC and NFD Vietnamese cells (python3 unicodedata as the oracle)', () => {
    const headers = ['MỨC ĐỘ', 'CẢNH BÁO', 'MÁY'];
    for (const form of ['NFC', 'NFD'] as const) {
      const rows = VI.map((r) => r.map((c) => c.normalize(form)));
      const out = table(headers, rows, 80);
      const starts = columnStarts(out, [headers, ...rows]);
      for (const s of starts.slice(1)) expect(s, form).toEqual(starts[0]);
      // The line of dashes is as wide as the widest line.
      const widths = pythonWidths(out.split('\n'));
      expect(widths[1], form).toBe(Math.max(...widths));
    }
  });

  it.skipIf(!python)('cuts long Vietnamese cells to the limit, with whole letters, and keeps columns aligned', () => {
    const long = 'Cách ly máy khỏi mạng ngay để mã độc không mã hoá tiếp các thư mục chia sẻ';
    for (const form of ['NFC', 'NFD'] as const) {
      const out = table(['HƯỚNG DẪN', 'MÁY'], [[long.normalize(form), 'máy-01'], ['ngắn', 'máy-chủ']], 20);
      const cutCell = out.split('\n')[2]!.split('  ')[0]!;
      expect(cutCell.endsWith('…'), form).toBe(true);
      expect(pythonWidths([cutCell])[0], form).toBe(20);
      expect(long.startsWith(cutCell.slice(0, -1)), `${form}: cut on a letter boundary`).toBe(true);
      const starts = columnStarts(out, [['HƯỚNG DẪN', 'MÁY'], [cutCell, 'máy-01'], ['ngắn', 'máy-chủ']]);
      for (const s of starts.slice(1)) expect(s, form).toEqual(starts[0]);
    }
  });

  it('a cut never leaves a combining mark without its letter (hand-written NFD input)', () => {
    const nfd = 'ệệệệệệ'.normalize('NFD');
    const out = table(['X'], [[nfd]], 4).split('\n')[2]!;
    expect(out).toBe('ệệệ…');
  });
});
