/**
 * Vulnerability data for the collector: exact version orders, OSV matching and signed
 * offline feed bundles. The collector's `feed import` command and its pipeline use this API:
 *
 *   const keys = loadTrustedKeys(trustDir(dataDir));
 *   await importBundle(file, dataDir, keys, onProgress);   // verify + activate atomically
 *   const feed = await loadFeed(dataDir);                   // once per active feed
 *   const matches = matchInventory(packages, feed.index, 'Debian:12');
 *   const fields = matches.map(vulnerabilityFields);        // ECS fields of a finding
 *
 * See docs/vulnerability-data.md.
 */
export { VulnCodes, VulnError, FeedError, type FeedCheck, type VulnCode } from './errors.js';
export { DPKG_ORDER, RPM_ORDER, SEMVER_ORDER, dpkg, rpm, semver, type Ordering, type VersionOrder } from './version/index.js';
export {
  parseOsvRecord, parseOsvArray, parseEcosystem, isKnownEcosystem, recordAliases,
  type OsvRecord, type OsvAffected, type OsvRange, type OsvEvent, type Ecosystem,
} from './osv.js';
export { parseKev, kevIndex, type KevCatalog, type KevEntry } from './kev.js';
export { severityOf, cvssBase, ratingOf, VULN_SEVERITIES, type VulnSeverity, type SeverityInfo, type Cvss } from './severity.js';
export { packageFromFields, type InstalledPackage } from './inventory.js';
export {
  buildFeedIndex, matchInventory, matchPackages, isAffected,
  type FeedIndex, type IndexStats, type VulnMatch, type MatchResult, type SkippedPackage,
} from './match.js';
export { vulnerabilityFields } from './fields.js';
export {
  buildBundle, verifyBundle, manifestSchema, ecosystemFileStem, expectedPath, FEED_SCHEMA, BUNDLE_EXTENSION, FILE_KINDS,
  type FeedManifest, type FeedSource, type FeedFile, type FileKind, type VerifiedBundle, type BuildBundleInput, type BundleFileInput,
} from './bundle.js';
export { loadTrustedKeys, trustedKeyFromPem, trustDir, keyIdOf, generateFeedKeyPair, type TrustedKey } from './trust.js';
export { importBundle, importBundleBytes, readBundleFile, feedStatus, loadFeed, type FeedStatus, type ImportOptions, type ImportProgress, type ImportResult, type LoadedFeed, type Rollback } from './feed-store.js';
export { trustForImport, TEST_FEED_KEY_ID, TEST_BUNDLE_SHA256, type ImportTrust } from './import-trust.js';
export { hostOs, type HostOs } from './host-os.js';
export { buildLifecycle, lifecycleFields, loadLifecycleFile, parseLifecycle, type LifecycleEntry, type LifecycleTable } from './lifecycle.js';
export { evaluateHost, isUnimportant, VULN_CHECK, type HostEvaluation, type HostState, type EvaluationPolicy } from './findings.js';
export { createVulnService, resolutionReason, readEvaluationMarker, VULN_ACTOR, type VulnService, type HostReport } from './service.js';
