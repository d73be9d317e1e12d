import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

export const PREVIEW_SIZES = { small: 160, medium: 480, large: 1280 } as const;
export type PreviewSize = keyof typeof PREVIEW_SIZES;
export const MAX_PREVIEW_BYTES = 25 * 1024 * 1024;
export const PREVIEW_TYPES = ['image/png', 'image/jpeg'];

/** The last rendered frame of each job, kept as JPEGs in three widths. */
export class Previews {
  constructor(readonly root: string) {}

  async store(jobId: string, image: Buffer): Promise<void> {
    const dir = join(this.root, jobId);
    await mkdir(dir, { recursive: true });
    const source = sharp(image, { limitInputPixels: 16384 * 16384 });
    await Promise.all(
      Object.entries(PREVIEW_SIZES).map(async ([size, width]) => {
        const data = await source.clone().resize({ width, withoutEnlargement: true }).jpeg({ quality: 80 }).toBuffer();
        const path = join(dir, `${size}.jpg`);
        await writeFile(`${path}.tmp`, data);
        await rename(`${path}.tmp`, path);
      }),
    );
  }

  async read(jobId: string, size: PreviewSize): Promise<Buffer | undefined> {
    try {
      return await readFile(join(this.root, jobId, `${size}.jpg`));
    } catch {
      return undefined;
    }
  }
}
