import winston from 'winston';

/** A key whose last segment names a secret: `token`, `es.password`, `api_key`… (`token.id` is not a secret). */
const SECRET_KEYS = /(^|[._-])(token|password|passwd|secret|private_?key|api_?key|authorization|credentials?)$/i;

/** Replaces the values of secret-looking fields; logs must never carry credentials. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEYS.test(k) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (SECRET_KEYS.test(key)) (info as Record<string, unknown>)[key] = '[redacted]';
    else if (typeof info[key] === 'object') (info as Record<string, unknown>)[key] = redact(info[key]);
  }
  return info;
});

/** ECS-shaped JSON for machines; a short line for people on a terminal. */
const ecsFormat = winston.format((info) => {
  const { level, message, ...rest } = info as Record<string, unknown>;
  const out = { '@timestamp': new Date().toISOString(), 'log.level': level, message, ...rest } as Record<string, unknown>;
  return Object.assign(info, { [Symbol.for('message')]: JSON.stringify(out) });
});

let root: winston.Logger | undefined;

function rootLogger(): winston.Logger {
  if (root) return root;
  const level = process.env.CANHGAC_LOG_LEVEL ?? (process.env.VITEST ? 'error' : 'info');
  const human = process.stderr.isTTY && process.env.CANHGAC_LOG_FORMAT !== 'json';
  root = winston.createLogger({
    level,
    format: human
      ? winston.format.combine(redactFormat(), winston.format.colorize(), winston.format.printf((i) => {
          const { level: l, message, component, ...rest } = i as Record<string, unknown>;
          const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
          return `${String(l)} [${String(component ?? '-')}] ${String(message)}${extra}`;
        }))
      : winston.format.combine(redactFormat(), ecsFormat()),
    transports: [new winston.transports.Stream({ stream: process.stderr })],
  });
  return root;
}

export type Logger = winston.Logger;

/** One child logger per component: `logger('collector.grpc')`, `logger('check', { check: 'fim' })`. */
export function logger(component: string, fields: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ component, ...fields });
}
