import type { FieldValue, FindingKind } from '../../common/finding.js';
import type { Severity } from '../store/types.js';
import type { CompiledCorrelation, CorrelationDoc } from './correlation.js';
import type { RuleDoc, RULE_STATUSES } from './schema.js';

/** What a rule sees: the finding's flat ECS fields plus the envelope (see evaluationFields). */
export type EvalFields = Readonly<Record<string, FieldValue>>;

export type RuleStatus = (typeof RULE_STATUSES)[number];

/** A rule ready to run: validated, its detection turned into one closure. */
export interface CompiledRule {
  readonly id: string;
  readonly title: string;
  /** `modified` date of the rule, else `date`, else "1". */
  readonly version: string;
  readonly level: Severity;
  readonly status: RuleStatus;
  /** `logsource.category`: the finding kind the rule runs on. */
  readonly category: FindingKind;
  /** `x-canhgac.kind`. */
  readonly kind: 'event' | 'state';
  /** File the rule came from ('' when compiled from an object). */
  readonly file: string;
  /**
   * Fields whose values (after the rule id) form the alert's dedup key. Always starts with
   * `agent.id`. `undefined`: the rule gave no key, so the default applies
   * (`agent.id` + `canhgac.state_key`, or `event.id` for events).
   */
  readonly dedupFields: readonly string[] | undefined;
  /**
   * The detection uses an age modifier (`age_gt`, `age_lt`): its outcome can change with time alone,
   * so the collector also evaluates it on a schedule over current state, not only as findings arrive.
   */
  readonly usesClock: boolean;
  /** `x-canhgac.dedup.suppress` in ms; for the pipeline (the evaluator itself keeps no state). */
  readonly suppressMs: number | undefined;
  readonly tags: { mitre: string[]; compliance: Record<string, string[]> };
  /** The validated rule document (i18n, description, references…). */
  readonly doc: RuleDoc | CorrelationDoc;
  /**
   * Sigma correlation rules only: what they count and over which window (correlation.ts). Their
   * `match` never matches; their `category` is their base rules' once resolved (loader).
   */
  readonly correlation?: CompiledCorrelation;
  /** false: the rule only feeds correlations (`generate: false`) and raises no alert of its own. */
  readonly alerts?: boolean;
  /** True when the detection matches. */
  readonly match: (fields: EvalFields) => boolean;
}
