/**
 * A small parser for Apple XML property lists (text in, values out, no I/O), for the `-xml` output
 * of system_profiler. Handles dict, array, string, key, integer, real, date, data, true/false and
 * the empty forms (<string/>, <dict/>, <array/>); the XML declaration, DOCTYPE and comments are
 * skipped; the five XML entities and numeric character references are decoded.
 */

export type PlistValue = string | number | boolean | Date | PlistValue[] | { [key: string]: PlistValue };

export class PlistError extends Error {}

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)));
    return ENTITY[e]!;
  });
}

interface Tag { name: string; close: boolean; empty: boolean; at: number; end: number }

export function parsePlist(xml: string): PlistValue {
  let pos = 0;
  const fail = (what: string): never => {
    const line = xml.slice(0, pos).split('\n').length;
    throw new PlistError(`plist line ${line}: ${what}`);
  };
  /** The next tag, skipping declarations, DOCTYPE, comments and whitespace. */
  const nextTag = (): Tag => {
    for (;;) {
      const lt = xml.indexOf('<', pos);
      if (lt < 0) return fail('unexpected end of document');
      if (xml.startsWith('<?', lt)) { pos = xml.indexOf('?>', lt) + 2; continue; }
      if (xml.startsWith('<!--', lt)) { pos = xml.indexOf('-->', lt) + 3; continue; }
      if (xml.startsWith('<!', lt)) { pos = xml.indexOf('>', lt) + 1; continue; }
      const gt = xml.indexOf('>', lt);
      if (gt < 0) return fail('unterminated tag');
      const body = xml.slice(lt + 1, gt).trim();
      const close = body.startsWith('/');
      const empty = body.endsWith('/');
      const name = body.replace(/^\//, '').replace(/\/$/, '').split(/\s+/)[0]!;
      pos = gt + 1;
      return { name, close, empty, at: lt, end: gt + 1 };
    }
  };
  const textUntilClose = (name: string): string => {
    const close = `</${name}>`;
    const end = xml.indexOf(close, pos);
    if (end < 0) return fail(`missing ${close}`);
    const text = xml.slice(pos, end);
    if (text.includes('<')) return fail(`unexpected markup inside <${name}>`);
    pos = end + close.length;
    return decode(text);
  };
  const value = (tag: Tag): PlistValue => {
    if (tag.close) return fail(`unexpected </${tag.name}>`);
    switch (tag.name) {
      case 'true': return true;
      case 'false': return false;
      case 'string': return tag.empty ? '' : textUntilClose('string');
      case 'integer': {
        const n = Number(textUntilClose('integer').trim());
        return Number.isFinite(n) ? n : fail('integer is not a number');
      }
      case 'real': {
        const n = Number(textUntilClose('real').trim());
        return Number.isFinite(n) ? n : fail('real is not a number');
      }
      case 'date': {
        const d = new Date(textUntilClose('date').trim());
        return Number.isNaN(d.getTime()) ? fail('date is not an ISO-8601 time') : d;
      }
      case 'data': return tag.empty ? '' : textUntilClose('data').replace(/\s+/g, '');
      case 'array': {
        const out: PlistValue[] = [];
        if (tag.empty) return out;
        for (;;) {
          const t = nextTag();
          if (t.close && t.name === 'array') return out;
          out.push(value(t));
        }
      }
      case 'dict': {
        const out: { [key: string]: PlistValue } = {};
        if (tag.empty) return out;
        for (;;) {
          const t = nextTag();
          if (t.close && t.name === 'dict') return out;
          if (t.name !== 'key' || t.close) return fail(`expected <key> in <dict>, found <${t.close ? '/' : ''}${t.name}>`);
          const key = t.empty ? '' : textUntilClose('key');
          out[key] = value(nextTag());
        }
      }
      default:
        return fail(`unknown element <${tag.name}>`);
    }
  };
  const root = nextTag();
  if (root.name !== 'plist' || root.close) return fail('the document is not a <plist>');
  const v = value(nextTag());
  const end = nextTag();
  if (!(end.close && end.name === 'plist')) fail('expected </plist> after the root value');
  return v;
}
