export type Ordering = -1 | 0 | 1;

/** One ecosystem's version order. */
export interface VersionOrder {
  /** Short name used in explanations: "dpkg", "rpm", "semver". */
  readonly name: 'dpkg' | 'rpm' | 'semver';
  /** -1, 0 or 1; throws COLLECTOR_VERSION_INVALID for a malformed version. */
  compare(a: string, b: string): Ordering;
  /** Why `v` is malformed in this order, or undefined when it is well formed. */
  problem(v: string): string | undefined;
}
