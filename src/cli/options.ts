import type { Command } from 'commander';

/** Adds the options every command takes. */
export function withCommonOptions(command: Command): Command {
  return command.option('--home <dir>', 'Kiln home directory (default: $KILN_HOME or ~/.kiln)');
}
