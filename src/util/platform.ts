/** The platforms Kiln tells apart (paths, variables, workers), named as users see them. */
import { Type, type Static } from '@sinclair/typebox';

export const PlatformSchema = Type.Union([Type.Literal('linux'), Type.Literal('darwin'), Type.Literal('windows')]);
export type Platform = Static<typeof PlatformSchema>;

/** Kiln's name for Node's `process.platform` (this host's, by default); every other Unix counts as linux. */
export function platformOf(nodePlatform: NodeJS.Platform = process.platform): Platform {
  if (nodePlatform === 'win32') return 'windows';
  if (nodePlatform === 'darwin') return 'darwin';
  return 'linux';
}

/** True on Windows (no process groups, executables found through PATHEXT, `\` in paths). */
export const isWindows = (): boolean => platformOf() === 'windows';
