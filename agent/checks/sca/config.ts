import { z } from 'zod';

export const scaConfig = z.object({
  policies_dir: z.string().default('rules/sca').describe(
    'Folder of SCA policy files (YAML), relative to the program folder unless absolute. Every policy whose platform and requirements match the host is evaluated.',
  ),
  policies: z.array(z.string().regex(/^[a-z0-9_]+$/)).default([]).describe(
    'Policy ids to evaluate; empty means every policy that applies to the host.',
  ),
  skip_checks: z.array(z.string()).default([]).describe(
    'Check ids never to evaluate on this host (an accepted deviation; the collector-side exception is the better place when it exists).',
  ),
}).strict();

export type ScaConfig = z.output<typeof scaConfig>;
