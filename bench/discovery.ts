/**
 * `npm run bench -- discovery`: inside a network namespace of its own (loopback set up for
 * multicast), the time from a service's start to a listener finding it by multicast, from its
 * goodbye to the entry leaving, and from a kill (no goodbye) to expiry.
 */
import { createLab, netnsSkipReason } from '../src/testing/netns.js';
import { ms, percentile } from './stats.js';

export async function benchDiscovery(runs = 100): Promise<void> {
  const skip = netnsSkipReason();
  if (skip) {
    console.log(`discovery: skipped (${skip})`);
    return;
  }
  const cleanups: Array<() => unknown> = [];
  try {
    const host = createLab({ after: (fn) => cleanups.push(fn) }).host('bench');
    host.run('ip', ['link', 'set', 'lo', 'multicast', 'on']);
    host.run('ip', ['route', 'add', '224.0.0.0/4', 'dev', 'lo']);
    const child = new URL('./discovery-child.js', import.meta.url).pathname;
    const result = host.exec(process.execPath, [child, String(runs), '200']);
    if (result.status !== 0) throw new Error(`discovery bench failed: ${result.stderr}`);
    const { found, goodbye, expiry, periodMs } = JSON.parse(result.stdout) as Record<string, number[]> & {
      periodMs: number;
    };
    const line = (label: string, values: number[] = []): string =>
      `  ${label.padEnd(36)} p50 ${ms(percentile(values, 50))}  p99 ${ms(percentile(values, 99))}  (n=${values.length})`;
    console.log(`discovery (one namespace, multicast on loopback, announce period ${periodMs} ms):`);
    console.log(line('start -> found by a listener', found));
    console.log(line('goodbye -> entry gone', goodbye));
    console.log(line(`kill -> expired (3 x ${periodMs} ms)`, expiry));
  } finally {
    for (const fn of cleanups.reverse()) await fn();
  }
}
