/**
 * Reading Blender's console output (and the built-in renderer's, which imitates it), one line at a
 * time. Formats seen in Blender 2.7x to 4.x:
 *
 *   Fra:1 Mem:9.90M (Peak 10.83M) | Time:00:00.04 | Mem:0.76M, Peak:0.76M | Scene, ViewLayer | Sample 1/4
 *   Fra:1 Mem:... | Time:... | Remaining:00:00.03 | ... | Scene, ViewLayer | Rendered 2/12 Tiles, Sample 4/4
 *   Fra:1 Mem:... | Time:00:00.64 | Rendering 12 / 64 samples                  (EEVEE, Workbench)
 *   Fra:1 Mem:... | ... | Scene, RenderLayer | Path Tracing Tile 3/16, Sample 10/16   (2.7x-2.93)
 *   Saved: '/tmp/frame_0001.png'                                            (2.8x and later)
 *   Saved: /tmp/frame_0001.png Time: 00:00.57 (Saving: 00:00.00)            (2.7x)
 *   Error: Cannot read file '/x.blend': No such file or directory
 *   ERROR (bke.modifier): ...                                               (CLOG, 2.9x and later)
 */

export type BlenderLine =
  /** A `Fra:N` line with no render progress on it (synchronising, updating, finished...). */
  | { kind: 'frame'; frame: number; status?: string }
  /**
   * Render progress of the current frame as 0-1 (samples, or tiles and samples). With tiles,
   * "Rendered 2/12 Tiles, Sample 3/4" counts as (2 + 3/4) / 12; Blender briefly reports a finished
   * tile's last sample after counting it, so values can step back a little: take the maximum per
   * frame if a monotonic bar matters.
   */
  | { kind: 'progress'; fraction: number; frame?: number; done: number; total: number; unit: 'samples' | 'tiles' }
  /** A written output file. */
  | { kind: 'saved'; path: string }
  | { kind: 'error'; message: string };

const FRA_RE = /^Fra:\s*(-?\d+)(?=\s|$|\|)(.*)$/;
const SAVED_RE = /^Saved:\s*(.*)$/;
const ERROR_RE = /^(?:Error|ERROR)(?:\s*\(([^)]*)\))?:\s*(.*)$/;

const TILES_RE =
  /^(?:Rendered|Path Tracing Tile)\s+(\d+)\s*\/\s*(\d+)(?:\s+Tiles)?(?:,\s*Sample\s+(\d+)\s*\/\s*(\d+))?/;
const SAMPLE_RE = /^Sample\s+(\d+)\s*\/\s*(\d+)/;
const RENDERING_SAMPLES_RE = /^Rendering\s+(\d+)\s*\/\s*(\d+)\s+samples/;

const clamp01 = (value: number): number => Math.min(1, Math.max(0, value));

function progressOf(segment: string): Omit<Extract<BlenderLine, { kind: 'progress' }>, 'kind' | 'frame'> | undefined {
  const tiles = TILES_RE.exec(segment);
  if (tiles) {
    const done = Number(tiles[1]);
    const total = Number(tiles[2]);
    if (total <= 0) return undefined;
    let fraction = done / total;
    if (tiles[3] !== undefined && tiles[4] !== undefined && Number(tiles[4]) > 0 && done < total) {
      fraction = (done + Number(tiles[3]) / Number(tiles[4])) / total;
    }
    return { fraction: clamp01(fraction), done, total, unit: 'tiles' };
  }
  const samples = SAMPLE_RE.exec(segment) ?? RENDERING_SAMPLES_RE.exec(segment);
  if (samples) {
    const done = Number(samples[1]);
    const total = Number(samples[2]);
    if (total <= 0) return undefined;
    return { fraction: clamp01(done / total), done, total, unit: 'samples' };
  }
  return undefined;
}

function unquote(text: string): string {
  const quote = text[0];
  if ((quote === "'" || quote === '"') && text.length >= 2) {
    const end = text.lastIndexOf(quote);
    if (end > 0) return text.slice(1, end);
  }
  // 2.7x put the timing on the same line: "Saved: /tmp/x.png Time: 00:00.57 (Saving: 00:00.00)".
  return text.replace(/\s+Time:\s*\d+:\d+(?:[:.]\d+)*\s*(?:\(Saving:[^)]*\))?\s*$/, '').trim();
}

/** Classifies one line of Blender output; undefined for lines that carry nothing Kiln uses. */
export function parseBlenderLine(line: string): BlenderLine | undefined {
  const text = line.replace(/[\r\n]+$/, '');
  const trimmed = text.trim();
  if (trimmed === '') return undefined;

  const fra = FRA_RE.exec(trimmed);
  if (fra) {
    const frame = Number(fra[1]);
    const segments = (fra[2] ?? '')
      .split('|')
      .map((segment) => segment.trim())
      .filter(Boolean);
    const last = segments.at(-1);
    const progress = last === undefined ? undefined : progressOf(last);
    if (progress) return { kind: 'progress', frame, ...progress };
    // The status is the last segment, unless that is only Blender's memory/time counters.
    return last !== undefined && !/^(?:Mem|Time|Remaining|Peak):/.test(last)
      ? { kind: 'frame', frame, status: last }
      : { kind: 'frame', frame };
  }

  const saved = SAVED_RE.exec(trimmed);
  if (saved) {
    const path = unquote((saved[1] ?? '').trim());
    return path === '' ? undefined : { kind: 'saved', path };
  }

  const error = ERROR_RE.exec(trimmed);
  if (error) {
    const message = (error[2] ?? '').trim();
    return { kind: 'error', message: error[1] ? `${error[1]}: ${message}` : message };
  }

  // A progress report without the Fra prefix (other front ends, or a bare "Sample 3/16").
  const last = trimmed.split('|').at(-1)?.trim();
  const progress = last === undefined ? undefined : progressOf(last);
  if (progress) return { kind: 'progress', ...progress };
  return undefined;
}
