/** Where a path really is: symlinks anywhere in it resolved (undefined when it does not exist). */
import { realpathSync } from 'node:fs';

export function realPathOf(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch {
    return undefined;
  }
}
