/**
 * Pending package updates on Debian/Ubuntu from `apt-get --simulate --quiet dist-upgrade` (LC_ALL=C).
 *
 * apt-get's simulation prints one line per action, a format apt keeps stable for scripts (unlike
 * `apt list`, which warns that its interface may change):
 *
 *   Inst libgcrypt20 [1.10.1-3] (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])
 *   Inst newdep (2.0-1 Debian:12.15/oldstable [amd64])        a package the upgrade would newly install
 *   Remv oldpkg [1.0-1]                                        a package it would remove
 *   Conf libgcrypt20 (1.10.1-3+deb12u1 Debian:12.15/oldstable [amd64])
 *
 * An `Inst` with a bracketed installed version is an upgrade of an installed package: that is a pending
 * update. The origins are `<origin>:<codename or version>/<suite>` of every archive that offers the
 * candidate; a suite ending in `-security` (Debian's `bookworm-security`/`oldstable-security`,
 * Ubuntu's `jammy-security`) makes it a security update. apt reads only its cached package lists:
 * what is pending is as fresh as the last `apt-get update` (see newestListTime in the packages check).
 */

/** The only argument list the agent runs apt-get with (agent/host/run.ts allowlists exactly this). */
export const APT_SIMULATE_ARGS: readonly string[] = ['--simulate', '--quiet', 'dist-upgrade'];

export interface AptPendingUpdate {
  name: string;
  architecture: string;
  installed: string;
  candidate: string;
  /** `Debian-Security:12/oldstable-security`, … as apt prints them. */
  origins: string[];
  security: boolean;
}

export interface AptSimulateParse {
  updates: AptPendingUpdate[];
  /** `Inst` lines of packages not installed yet (new dependencies of an upgrade). */
  newInstalls: number;
  /** `Inst` lines that did not have the expected shape. */
  malformed: number;
}

// Inst <name> [<installed>] (<candidate> <origins> [<arch>]) [optional trailing notes]
const INST = /^Inst (\S+) \[([^\]]+)\] \((\S+) (.+) \[([^\]]+)\]\)(?: .*)?$/;
const INST_NEW = /^Inst (\S+) \((\S+) (.+) \[([^\]]+)\]\)(?: .*)?$/;

export function parseAptSimulate(text: string): AptSimulateParse {
  const updates: AptPendingUpdate[] = [];
  let newInstalls = 0;
  let malformed = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('Inst ')) continue;
    const m = INST.exec(line);
    if (m) {
      const origins = m[4]!.split(', ').map((o) => o.trim()).filter((o) => o.length > 0);
      updates.push({
        name: m[1]!, installed: m[2]!, candidate: m[3]!, architecture: m[5]!, origins,
        security: origins.some((o) => /-security$/.test(o)),
      });
    } else if (INST_NEW.test(line)) {
      newInstalls++;
    } else {
      malformed++;
    }
  }
  return { updates, newInstalls, malformed };
}
