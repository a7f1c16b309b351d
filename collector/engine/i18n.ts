import type { CompiledRule } from './types.js';

/**
 * The Vietnamese title of each rule (`x-canhgac.i18n.vi.title`), by rule id. Stored alerts keep the
 * rule's id and English title only; output for people and programs looks the Vietnamese one up here.
 */
export function viTitlesById(rules: readonly CompiledRule[]): Map<string, string> {
  return new Map(rules.map((r) => [r.id, r.doc['x-canhgac'].i18n.vi.title] as const));
}
