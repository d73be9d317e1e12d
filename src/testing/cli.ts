import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const KILN_MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * What every `kiln` a test starts gets unless the test says otherwise: no DNS-SD from managers,
 * workers or the CLI, since tests must never send mDNS on the host's own interfaces.
 */
export const NO_HOST_MDNS_ENV: Readonly<NodeJS.ProcessEnv> = Object.freeze({
  KILN_DNS_SD: 'off',
  KILN_SELF_DISCOVERY: 'off',
  KILN_MANAGER_DISCOVERY_DNS_SD: 'false',
  KILN_MANAGER_DISCOVERY_ENABLED: 'false',
});

/** Runs the built `kiln` command as a user would, with no terminal attached. */
export function runKiln(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; shellPrefix?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // shellPrefix lets a test lower a limit first (e.g. `ulimit -n 150`); the args are still passed as argv.
    const [file, argv] = options.shellPrefix
      ? ['bash', ['-c', `${options.shellPrefix}; exec "$0" "$@"`, process.execPath, KILN_MAIN, ...args]]
      : [process.execPath, [KILN_MAIN, ...args]];
    const child = spawn(file, argv as string[], {
      env: { ...NO_HOST_MDNS_ENV, ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** A user mistake: non-zero exit, exactly one `kiln: ...` line on stderr, no stack trace. */
export function assertOneLineError(result: CliResult, message: RegExp): void {
  assert.notEqual(result.code, 0, `exit status; stdout: ${result.stdout}`);
  assert.match(result.stderr, /^kiln: [^\n]+\n$/, `one line on stderr, got: ${JSON.stringify(result.stderr)}`);
  assert.doesNotMatch(result.stderr, /\n\s+at |internal error/);
  assert.match(result.stderr, message);
}
