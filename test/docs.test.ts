/** The README's configuration reference is generated from the zod schemas; this fails when they drift. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeWithReference } from '../scripts/config-reference.js';
import { ROOT } from './helpers.js';

describe('README', () => {
  it('has the configuration reference the schemas generate (run: npm run build && node dist/scripts/config-reference.js --write)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toBe(readmeWithReference(readme));
  });

  it('shows the two commands of the README contract', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });
});
