/**
 * What FIM watches when the configuration does not say: per operating system, the places attackers
 * change to persist, escalate or hide (documented in README.md; a test keeps the two in step).
 * `*` stands for every name in that folder (every user's home).
 */

export type Platform = 'linux' | 'win32' | 'darwin';

export interface WatchSet {
  paths: string[];
  /** Include patterns (see scope.ts): only executables are taken from Program Files. */
  include: string[];
}

const LINUX: WatchSet = {
  paths: [
    '/etc', // accounts, sudoers, ssh, cron, systemd units, profile and rc files, hosts, ld.so.preload
    '/bin', '/sbin', '/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin', // (on merged-/usr systems /bin and /sbin are links, recorded as such)
    '/boot',
    '/root/.ssh', '/home/*/.ssh',
    '/var/spool/cron',
    '/usr/lib/systemd/system', '/lib/systemd/system',
    '/var/www',
  ],
  include: [],
};

const PROGRAM_FILES_EXECUTABLES = '**/*.{exe,dll,sys,ps1,bat,cmd,vbs,js,msi,scr,com}';

const WINDOWS: WatchSet = {
  paths: [
    'C:\\Windows\\System32\\drivers',
    'C:\\Windows\\System32\\Tasks',
    'C:\\ProgramData\\Microsoft\\Windows\\Start Menu\\Programs\\StartUp',
    'C:\\Users\\*\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup',
    'C:\\Program Files',
    'C:\\Program Files (x86)',
  ],
  include: [`C:/Program Files/${PROGRAM_FILES_EXECUTABLES}`, `C:/Program Files (x86)/${PROGRAM_FILES_EXECUTABLES}`],
};

const DARWIN: WatchSet = {
  paths: [
    '/private/etc', // /etc is a link to it
    '/Library/LaunchAgents', '/Library/LaunchDaemons',
    '/System/Library/LaunchAgents', '/System/Library/LaunchDaemons',
    '/Users/*/Library/LaunchAgents',
    '/usr/local/bin',
    '/var/root/.ssh', '/Users/*/.ssh',
  ],
  include: [],
};

export const WATCH_SETS: Readonly<Record<Platform, WatchSet>> = { linux: LINUX, win32: WINDOWS, darwin: DARWIN };

/** The default watch set of a platform (anything else gets Linux's: the BSDs look alike enough). */
export function defaultWatchSet(platform: NodeJS.Platform = process.platform): WatchSet {
  const set = platform === 'win32' || platform === 'darwin' ? WATCH_SETS[platform] : WATCH_SETS.linux;
  return { paths: [...set.paths], include: [...set.include] };
}
