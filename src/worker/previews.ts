/**
 * Sending rendered frames to the manager as the job's preview. Best effort and latest wins: while
 * one upload runs, newer frames replace each other and only the newest is sent next; a preview
 * that cannot be sent is skipped (it is never queued on disk). PNG and JPEG files up to the
 * manager's limit go as they are; anything else, or anything larger, is converted to a JPEG of at
 * most 1920 pixels wide with sharp.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Logger } from 'pino';
import sharp from 'sharp';
import type { PreviewContentType } from '../client/api-client.js';
import { toError } from '../util/errors.js';

/** The manager refuses larger previews. */
const MAX_PREVIEW_BYTES = 25 * 1024 * 1024;
const PREVIEW_WIDTH = 1920;

export type UploadPreview = (image: Uint8Array, contentType: PreviewContentType, signal: AbortSignal) => Promise<void>;

export interface PreviewImage {
  data: Uint8Array;
  contentType: PreviewContentType;
}

/** The file as a preview the manager accepts. */
export async function loadPreview(path: string): Promise<PreviewImage> {
  const extension = extname(path).toLowerCase();
  const size = (await stat(path)).size;
  if (size <= MAX_PREVIEW_BYTES) {
    if (extension === '.png') return { data: await readFile(path), contentType: 'image/png' };
    if (extension === '.jpg' || extension === '.jpeg') return { data: await readFile(path), contentType: 'image/jpeg' };
  }
  const data = await sharp(path)
    .resize({ width: PREVIEW_WIDTH, withoutEnlargement: true })
    .jpeg({ quality: 85 })
    .toBuffer();
  return { data, contentType: 'image/jpeg' };
}

export class PreviewUploader {
  readonly #upload: UploadPreview;
  readonly #logger: Logger | undefined;
  readonly #controller = new AbortController();
  #next: string | undefined;
  #running: Promise<void> | undefined;
  #sent = 0;

  constructor(upload: UploadPreview, logger?: Logger) {
    this.#upload = upload;
    this.#logger = logger;
  }

  get sent(): number {
    return this.#sent;
  }

  /** A newly written frame; replaces one still waiting. */
  offer(path: string): void {
    if (this.#controller.signal.aborted) return;
    this.#next = path;
    this.#running ??= this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  /**
   * Waits (at most `timeoutMs`) for the upload in progress and the newest waiting frame, then
   * stops; whatever is not sent by then is skipped.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    const running = this.#running;
    if (running) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    }
    this.#controller.abort(new Error('task finished'));
    this.#next = undefined;
  }

  async #loop(): Promise<void> {
    while (this.#next !== undefined && !this.#controller.signal.aborted) {
      const path = this.#next;
      this.#next = undefined;
      try {
        const image = await loadPreview(path);
        await this.#upload(image.data, image.contentType, this.#controller.signal);
        this.#sent++;
      } catch (error) {
        if (this.#controller.signal.aborted) return;
        this.#logger?.warn({ path, err: toError(error) }, 'could not send a preview; skipping it');
      }
    }
  }
}
