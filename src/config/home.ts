import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** KILN_HOME: `--home`, else `$KILN_HOME`, else `~/.kiln`. */
export function resolveHome(flag?: string): string {
  const chosen = flag ?? process.env.KILN_HOME;
  return chosen ? resolve(chosen) : join(homedir(), '.kiln');
}
