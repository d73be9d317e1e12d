/**
 * `kiln submit --input PATH [--deps PATH...] [--storage MODE]`: gets the input where every worker
 * reads it (see prepareStorage), with a progress bar on a terminal, and says where it went.
 */
import cliProgress from 'cli-progress';
import { UserError } from '../../util/errors.js';
import type { JobStorage } from '../../storage/job-storage.js';
import type { CliClient } from '../client.js';
import type { SubmitFlags } from '../commands/submit.js';
import type { ProgressReporter, StorageMode } from './prepare.js';

const STORAGE_MODES = ['auto', 'direct', 'copy', 'shaman'] as const;

/** Puts the input where the workers can read it (see prepareStorage) with a progress bar. */
export async function sendInput(
  flags: Pick<SubmitFlags, 'storage' | 'input' | 'deps'>,
  jobName: string,
  client: CliClient,
): Promise<JobStorage> {
  const mode = flags.storage ?? 'auto';
  if (!(STORAGE_MODES as readonly string[]).includes(mode)) {
    throw new UserError(`--storage must be one of ${STORAGE_MODES.join(', ')}, got "${mode}"`, { field: 'storage' });
  }
  const { input } = flags;
  if (!input) throw new UserError('--deps needs --input', { field: 'deps' });
  const { prepareStorage } = await import('./prepare.js');
  return prepareStorage({
    client: client.api,
    input,
    deps: flags.deps ?? [],
    mode: mode as StorageMode,
    jobName,
    home: client.home,
    progress: process.stderr.isTTY ? barProgress() : undefined,
  });
}

function barProgress(): ProgressReporter {
  let bar: cliProgress.SingleBar | undefined;
  return {
    start(label, total) {
      bar = new cliProgress.SingleBar(
        {
          format: `  ${label.padEnd(9)} {bar} {percentage}% | {value_mib}/{total_mib} MiB`,
          hideCursor: true,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { value_mib: '0.0', total_mib: (total / 1048576).toFixed(1) });
    },
    advance(amount) {
      bar?.increment(amount, { value_mib: ((bar.getProgress() * bar.getTotal() + amount) / 1048576).toFixed(1) });
    },
    stop() {
      bar?.stop();
    },
  };
}

export function describeStorage(storage: JobStorage): string {
  const mib = (bytes = 0): string => `${(bytes / 1048576).toFixed(1)} MiB`;
  if (storage.mode === 'direct') return `Input used in place: ${storage.effectivePath}`;
  if (storage.mode === 'copy')
    return `Input copied (${storage.files} files, ${mib(storage.bytesUploaded)}) to ${storage.effectivePath}`;
  return `Input checked out via Shaman (${storage.files} files; hashed ${mib(storage.bytesHashed)}, uploaded ${mib(storage.bytesUploaded)}) at ${storage.effectivePath}`;
}
