import type { z } from 'zod';
import { AgentCodes, AgentError } from '../errors.js';

/**
 * Validates a check's configuration against its schema (what `init` does). Unknown keys, wrong
 * types and out-of-range values become one AGENT_CHECK_CONFIG_INVALID error naming every problem
 * by its path (`checks.fim.max_hash_bytes: …`). An absent config means "all defaults".
 */
export function parseCheckConfig<S extends z.ZodType>(check: string, schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = [`checks.${check}`, ...issue.path.map(String)].join('.');
    return { path, message: issue.message };
  });
  throw new AgentError(
    AgentCodes.CHECK_CONFIG_INVALID,
    `invalid configuration for check "${check}": ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    { where: problems[0]?.path ?? `checks.${check}`, hint: `the options are listed in agent/checks/${check}/README.md` },
  );
}
