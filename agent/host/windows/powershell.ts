/** Runs one of the fixed PowerShell queries through the command allowlist and returns its JSON text. */
import type { CommandId, Runner } from '../run.js';
import { powershellArgs, type PowerShellQueryId } from './queries.js';

export async function runPowerShell(run: Runner<CommandId>, id: PowerShellQueryId): Promise<string> {
  return (await run('powershell', powershellArgs(id))).stdout;
}
