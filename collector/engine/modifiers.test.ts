import { describe, expect, it } from 'vitest';
import { compileRule } from './compile.js';
import { isCanhGacError } from '../../common/errors.js';
import { matcher, ruleDoc } from './fixtures/rule.js';

function compileError(key: string, value: unknown): { code: string; message: string } {
  try {
    compileRule(ruleDoc({ detection: { sel: { [key]: value }, condition: 'sel' } }));
  } catch (e) {
    if (isCanhGacError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a compile error');
}

describe('plain values', () => {
  it('matches strings exactly and case-insensitively', () => {
    const m = matcher('file.name', 'Hosts');
    expect(m({ 'file.name': 'hosts' })).toBe(true);
    expect(m({ 'file.name': 'HOSTS' })).toBe(true);
    expect(m({ 'file.name': 'hosts.bak' })).toBe(false);
    expect(m({})).toBe(false);
  });

  it('matches numbers against numbers and numeric strings', () => {
    const m = matcher('server.port', 22);
    expect(m({ 'server.port': 22 })).toBe(true);
    expect(m({ 'server.port': '22' })).toBe(true);
    expect(m({ 'server.port': 2222 })).toBe(false);
  });

  it('matches booleans', () => {
    const m = matcher('update.security', true);
    expect(m({ 'update.security': true })).toBe(true);
    expect(m({ 'update.security': false })).toBe(false);
  });

  it('a list of values matches when any value matches', () => {
    const m = matcher('server.port', [21, 23]);
    expect(m({ 'server.port': 23 })).toBe(true);
    expect(m({ 'server.port': 22 })).toBe(false);
  });

  it('null matches a missing field only', () => {
    const m = matcher('fim.package', null);
    expect(m({})).toBe(true);
    expect(m({ 'fim.package': '' })).toBe(false);
    expect(m({ 'fim.package': 'openssh-server' })).toBe(false);
    const either = matcher('fim.package', [null, 'openssh-server']);
    expect(either({})).toBe(true);
    expect(either({ 'fim.package': 'openssh-server' })).toBe(true);
    expect(either({ 'fim.package': 'nginx' })).toBe(false);
  });

  it('a field holding a list matches when any element matches', () => {
    const m = matcher('file.attributes', 'setuid');
    expect(m({ 'file.attributes': ['executable', 'setuid'] })).toBe(true);
    expect(m({ 'file.attributes': ['executable'] })).toBe(false);
    expect(m({ 'file.attributes': [] })).toBe(false);
  });

  it('* and ? are wildcards; \\* \\? \\\\ are literal', () => {
    const m = matcher('file.path', '/home/*/.ssh/authorized_keys');
    expect(m({ 'file.path': '/home/lan/.ssh/authorized_keys' })).toBe(true);
    expect(m({ 'file.path': '/root/.ssh/authorized_keys' })).toBe(false);
    const q = matcher('file.name', 'run?.sh');
    expect(q({ 'file.name': 'run1.sh' })).toBe(true);
    expect(q({ 'file.name': 'run12.sh' })).toBe(false);
    const lit = matcher('file.name', 'a\\*b');
    expect(lit({ 'file.name': 'a*b' })).toBe(true);
    expect(lit({ 'file.name': 'axxb' })).toBe(false);
    const bs = matcher('file.path', 'C:\\Windows\\System32\\drivers\\etc\\hosts');
    expect(bs({ 'file.path': 'c:\\windows\\system32\\drivers\\etc\\HOSTS' })).toBe(true);
  });
});

describe('string modifiers', () => {
  it('contains', () => {
    const m = matcher('file.path|contains', '\\Temp\\');
    expect(m({ 'file.path': 'C:\\Users\\lan\\AppData\\Local\\temp\\x.exe' })).toBe(true);
    expect(m({ 'file.path': 'C:\\Templates\\x.exe' })).toBe(false);
  });

  it('startswith', () => {
    const m = matcher('file.path|startswith', ['/tmp/', '/var/tmp/']);
    expect(m({ 'file.path': '/tmp/x' })).toBe(true);
    expect(m({ 'file.path': '/var/tmp/x' })).toBe(true);
    expect(m({ 'file.path': '/home/tmp/x' })).toBe(false);
  });

  it('endswith', () => {
    const m = matcher('file.path|endswith', '/.ssh/authorized_keys');
    expect(m({ 'file.path': '/root/.ssh/authorized_keys' })).toBe(true);
    expect(m({ 'file.path': '/root/.ssh/authorized_keys.bak' })).toBe(false);
  });

  it('wildcards work inside contains/startswith/endswith', () => {
    const m = matcher('file.path|startswith', '/home/*/.config/systemd/');
    expect(m({ 'file.path': '/home/lan/.config/systemd/user/x.service' })).toBe(true);
    expect(m({ 'file.path': '/etc/systemd/system/x.service' })).toBe(false);
  });

  it('numbers are compared as text', () => {
    const m = matcher('server.port|startswith', 80);
    expect(m({ 'server.port': 8080 })).toBe(true);
    expect(m({ 'server.port': 443 })).toBe(false);
  });

  it('contains|all needs every value', () => {
    const m = matcher('process.executable|contains|all', ['/opt/', 'redis']);
    expect(m({ 'process.executable': '/opt/redis/bin/redis-server' })).toBe(true);
    expect(m({ 'process.executable': '/usr/bin/redis-server' })).toBe(false);
  });
});

describe('re', () => {
  it('is case-sensitive unless |i', () => {
    const m = matcher('file.name|re', '^run\\d+\\.sh$');
    expect(m({ 'file.name': 'run42.sh' })).toBe(true);
    expect(m({ 'file.name': 'RUN42.sh' })).toBe(false);
    const i = matcher('file.name|re|i', '^run\\d+\\.sh$');
    expect(i({ 'file.name': 'RUN42.SH' })).toBe(true);
  });

  it('matches any element of a list field', () => {
    const m = matcher('fim.changes|re', '^set[ug]id_added$');
    expect(m({ 'fim.changes': ['content', 'setgid_added'] })).toBe(true);
    expect(m({ 'fim.changes': ['content'] })).toBe(false);
  });

  it('rejects an invalid regex', () => {
    expect(compileError('file.name|re', '(unclosed')).toMatchObject({ code: 'COLLECTOR_RULE_VALUE' });
  });

  it('rejects a flag without re', () => {
    expect(compileError('file.name|contains|i', 'x').code).toBe('COLLECTOR_RULE_MODIFIER');
  });
});

describe('numeric comparisons', () => {
  it('gt, gte, lt, lte', () => {
    const f = (n: number | string) => ({ 'file.size': n });
    expect(matcher('file.size|gt', 100)(f(101))).toBe(true);
    expect(matcher('file.size|gt', 100)(f(100))).toBe(false);
    expect(matcher('file.size|gte', 100)(f(100))).toBe(true);
    expect(matcher('file.size|lt', 100)(f(99))).toBe(true);
    expect(matcher('file.size|lt', 100)(f(100))).toBe(false);
    expect(matcher('file.size|lte', 100)(f(100))).toBe(true);
    expect(matcher('file.size|gt', 100)(f('150'))).toBe(true);
    expect(matcher('file.size|gt', 100)(f('lots'))).toBe(false);
    expect(matcher('file.size|gt', 100)({})).toBe(false);
  });

  it('a range from two entries', () => {
    const m = matcher('server.port|lt', 1024);
    expect(m({ 'server.port': 80 })).toBe(true);
    expect(m({ 'server.port': 8080 })).toBe(false);
  });

  it('needs a number', () => {
    expect(compileError('file.size|gt', 'big').code).toBe('COLLECTOR_RULE_VALUE');
  });
});

describe('exists', () => {
  it('true and false', () => {
    expect(matcher('file.hash.sha256|exists', true)({ 'file.hash.sha256': 'ab' })).toBe(true);
    expect(matcher('file.hash.sha256|exists', true)({})).toBe(false);
    expect(matcher('file.hash.sha256|exists', false)({})).toBe(true);
    expect(matcher('file.hash.sha256|exists', false)({ 'file.hash.sha256': 'ab' })).toBe(false);
  });

  it('takes only a boolean and no other modifier', () => {
    expect(compileError('file.path|exists', 'yes').code).toBe('COLLECTOR_RULE_VALUE');
    expect(compileError('file.path|exists|all', [true]).code).toBe('COLLECTOR_RULE_MODIFIER');
  });
});

describe('all', () => {
  it('with a list field: every value must be present', () => {
    const m = matcher('file.attributes|all', ['executable', 'setuid']);
    expect(m({ 'file.attributes': ['setuid', 'executable'] })).toBe(true);
    expect(m({ 'file.attributes': ['executable'] })).toBe(false);
    expect(m({})).toBe(false);
  });

  it('needs a list of values', () => {
    expect(compileError('file.attributes|all', 'setuid').code).toBe('COLLECTOR_RULE_MODIFIER');
  });
});

describe('cidr', () => {
  it('IPv4', () => {
    const m = matcher('server.ip|cidr', ['10.0.0.0/8', '192.168.0.0/16']);
    expect(m({ 'server.ip': '10.1.2.3' })).toBe(true);
    expect(m({ 'server.ip': '192.168.1.10' })).toBe(true);
    expect(m({ 'server.ip': '172.16.0.1' })).toBe(false);
    expect(m({ 'server.ip': 'not-an-ip' })).toBe(false);
    expect(m({ 'server.ip': 10 })).toBe(false);
  });

  it('IPv6, and IPv4-mapped addresses against IPv4 ranges', () => {
    const m = matcher('server.ip|cidr', ['fe80::/10', '127.0.0.0/8']);
    expect(m({ 'server.ip': 'fe80::1%eth0' })).toBe(true);
    expect(m({ 'server.ip': '::ffff:127.0.0.1' })).toBe(true);
    expect(m({ 'server.ip': '2001:db8::1' })).toBe(false);
    expect(matcher('server.ip|cidr', '::/0')({ 'server.ip': '::' })).toBe(true);
    expect(matcher('server.ip|cidr', '::1/128')({ 'server.ip': '0:0:0:0:0:0:0:1' })).toBe(true);
  });

  it('rejects a bad range', () => {
    expect(compileError('server.ip|cidr', '10.0.0.0/33').code).toBe('COLLECTOR_RULE_VALUE');
    expect(compileError('server.ip|cidr', '10.0.0.1/8').code).toBe('COLLECTOR_RULE_VALUE');
    expect(compileError('server.ip|cidr', 'fe80::/129').code).toBe('COLLECTOR_RULE_VALUE');
  });
});

describe('bad entries', () => {
  it('an unknown modifier says which and lists the known ones', () => {
    const e = compileError('file.path|beginswith', '/tmp/');
    expect(e.code).toBe('COLLECTOR_RULE_MODIFIER');
    expect(e.message).toContain('unknown modifier "beginswith"');
    expect(e.message).toContain('startswith');
  });

  it('two operators cannot be combined', () => {
    expect(compileError('file.path|contains|startswith', 'x').code).toBe('COLLECTOR_RULE_MODIFIER');
  });

  it('null takes no modifier', () => {
    expect(compileError('file.path|contains', null).code).toBe('COLLECTOR_RULE_VALUE');
  });

  it('an empty list and nested values are refused', () => {
    expect(compileError('file.path', []).code).toBe('COLLECTOR_RULE_VALUE');
    expect(compileError('file.path', { a: 1 }).code).toBe('COLLECTOR_RULE_VALUE');
  });
});
