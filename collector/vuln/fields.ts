/** A match as the ECS fields of a `vulnerability` finding (DESIGN §3.2). */
import type { Fields } from '../../common/finding.js';
import type { VulnMatch } from './match.js';

export function vulnerabilityFields(m: VulnMatch): Fields {
  const f: Fields = {
    'vulnerability.id': m.id,
    'vulnerability.aliases': m.aliases,
    'vulnerability.severity': m.severity,
    'vulnerability.kev': m.kev,
    'vulnerability.fix_available': m.fixAvailable,
    'vulnerability.explanation': m.explanation,
    'vulnerability.ecosystem': m.ecosystem,
    'package.name': m.package.name,
    'package.version': m.installedVersion,
  };
  if (m.score !== null) f['vulnerability.score.base'] = m.score;
  if (m.cvss !== null) {
    f['vulnerability.score.version'] = m.cvss.version;
    f['vulnerability.score.vector'] = m.cvss.vector;
  }
  if (m.fixedVersion !== null) f['vulnerability.fixed_version'] = m.fixedVersion;
  if (m.cves.length > 0) f['vulnerability.cves'] = m.cves;
  if (m.package.matchedOn === 'source') f['package.source.name'] = m.package.name;
  return f;
}
