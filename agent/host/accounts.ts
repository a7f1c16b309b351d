/** Local user and group names (/etc/passwd, /etc/group). Accounts only in LDAP/SSSD stay unnamed. */
import { readSystemFile } from './fs.js';
import { parseGroup, parsePasswd } from './linux/accounts.js';

export interface Accounts {
  userName(uid: number): string | undefined;
  groupName(gid: number): string | undefined;
}

export const NO_ACCOUNTS: Accounts = { userName: () => undefined, groupName: () => undefined };

export async function loadAccounts(etc = '/etc'): Promise<Accounts> {
  if (process.platform === 'win32') return NO_ACCOUNTS;
  const [passwd, group] = await Promise.all([
    readSystemFile(`${etc}/passwd`, 16 * 1024 * 1024).catch(() => undefined),
    readSystemFile(`${etc}/group`, 16 * 1024 * 1024).catch(() => undefined),
  ]);
  const users = passwd ? parsePasswd(passwd) : new Map<number, string>();
  const groups = group ? parseGroup(group) : new Map<number, string>();
  return { userName: (uid) => users.get(uid), groupName: (gid) => groups.get(gid) };
}
