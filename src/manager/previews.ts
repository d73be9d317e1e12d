import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

export const PREVIEW_SIZES = { small: 160, medium: 480, large: 1280 } as const;
export type PreviewSize = keyof typeof PREVIEW_SIZES;
export const MAX_PREVIEW_BYTES = 25 * 1024 * 1024;
export const PREVIEW_TYPES = ['image/png', 'image/jpeg'];

/** The upload could not be decoded as an image (the sender's fault, unlike a failing disk). */
export class InvalidImageError extends Error {
  override readonly name = 'InvalidImageError';
}

/**
 * The last rendered frame of each job, kept as JPEGs in three widths. Several workers of one job
 * send previews at the same moment: each upload is encoded on its own, then its three files are
 * written (unique temp files renamed into place) one upload at a time per job, so the sizes on
 * disk always come from one and the same frame.
 */
export class Previews {
  /** Per job, the end of the chain of writes in progress. */
  readonly #writing = new Map<string, Promise<void>>();

  constructor(readonly root: string) {}

  async store(jobId: string, image: Buffer): Promise<void> {
    const encoded = await encodeSizes(image);
    const dir = join(this.root, jobId);
    const previous = this.#writing.get(jobId) ?? Promise.resolve();
    const mine = previous.then(() => writeAll(dir, encoded));
    const tail = mine.catch(() => undefined);
    this.#writing.set(jobId, tail);
    try {
      await mine;
    } finally {
      if (this.#writing.get(jobId) === tail) this.#writing.delete(jobId);
    }
  }

  async read(jobId: string, size: PreviewSize): Promise<Buffer | undefined> {
    try {
      return await readFile(join(this.root, jobId, `${size}.jpg`));
    } catch {
      return undefined;
    }
  }
}

async function encodeSizes(image: Buffer): Promise<Array<[PreviewSize, Buffer]>> {
  try {
    const source = sharp(image, { limitInputPixels: 16384 * 16384 });
    return await Promise.all(
      (Object.entries(PREVIEW_SIZES) as Array<[PreviewSize, number]>).map(
        async ([size, width]): Promise<[PreviewSize, Buffer]> => [
          size,
          await source.clone().resize({ width, withoutEnlargement: true }).jpeg({ quality: 80 }).toBuffer(),
        ],
      ),
    );
  } catch (error) {
    throw new InvalidImageError(`not an image: ${(error as Error).message}`, { cause: error });
  }
}

/** Each file through a temp name of its own, renamed over the old one: readers see whole files only. */
async function writeAll(dir: string, encoded: Array<[PreviewSize, Buffer]>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [size, data] of encoded) {
    const path = join(dir, `${size}.jpg`);
    const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temp, data);
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }
}
