import { isMap, isScalar, isSeq, Scalar, type Document, type LineCounter } from 'yaml';
import type { Locator } from './compile.js';

/**
 * Finds the line of a node in a parsed YAML document from its path (['detection', 'sel', 'file.path']).
 * When the path goes further than the document (a missing key), the deepest node found is used.
 * With `atKey` the position is the key of the last element rather than its value.
 */
export function yamlLocator(doc: Document, lc: LineCounter): Locator {
  return (path, atKey, innerColumn) => {
    let node: unknown = doc.contents;
    let pos = offsetOf(node) ?? 0;
    let exact = path.length === 0;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        pos = offsetOf(pair.key) ?? pos;
        if (last && atKey) { exact = true; break; }
        node = pair.value;
        if (last && isScalar(node)) pos = offsetOf(node) ?? pos;
        exact = last;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (item === undefined) break;
        node = item;
        pos = offsetOf(item) ?? pos;
        exact = last;
      } else {
        break;
      }
    }
    const lp = lc.linePos(pos);
    let column = lp.col;
    // Point into a one-line string (a condition) when we know the column inside it.
    if (exact && !atKey && innerColumn !== undefined && isScalar(node) && typeof node.value === 'string' && !node.value.includes('\n')) {
      if (node.type === Scalar.PLAIN) column += innerColumn - 1;
      else if (node.type === Scalar.QUOTE_SINGLE || node.type === Scalar.QUOTE_DOUBLE) column += innerColumn;
    }
    return { line: lp.line, column };
  };
}

function offsetOf(node: unknown): number | undefined {
  if (node !== null && typeof node === 'object' && 'range' in node) {
    const r = (node as { range?: [number, number, number] | null }).range;
    if (r) return r[0];
  }
  return undefined;
}
