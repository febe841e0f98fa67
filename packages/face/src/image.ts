import sharp from 'sharp';
import type { RgbImage } from './align.ts';

/** Images above this many pixels are refused from their header, before any pixel is decoded. */
export const MAX_INPUT_PIXELS = 40_000_000;
/** Larger photos are scaled down to this longer side: the detector works at 512 px anyway. */
export const MAX_WORKING_SIDE = 1280;
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp']);

export type DecodedImage =
  | { ok: true; image: RgbImage; /** uploaded pixels per working pixel */ scale: number; width: number; height: number }
  | { ok: false; message: string };

/**
 * Decodes a JPEG, PNG or WebP into 8-bit RGB, upright (EXIF orientation applied), transparent areas
 * flattened onto white. Anything else — garbage, a truncated file, another format, or a header that
 * announces more than MAX_INPUT_PIXELS — is refused with a message, never decoded into a huge buffer.
 */
export async function decodeImage(bytes: Uint8Array): Promise<DecodedImage> {
  const options = { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'warning' as const };
  // The header alone is read here (no pixel buffer), so the size check below can say what is wrong.
  const meta = await sharp(bytes, { ...options, limitInputPixels: false })
    .metadata()
    .catch(() => null);
  if (!meta) return { ok: false, message: 'The data is not a readable image.' };
  if (!meta.format || !ACCEPTED_FORMATS.has(meta.format)) {
    return { ok: false, message: 'The image must be a JPEG, PNG or WebP.' };
  }
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (!meta.width || !meta.height || pixels > MAX_INPUT_PIXELS) {
    return { ok: false, message: `The image dimensions are invalid or above ${MAX_INPUT_PIXELS / 1e6} megapixels.` };
  }
  if ((meta.pages ?? 1) > 1) return { ok: false, message: 'Animated images are not accepted.' };
  try {
    const { data, info } = await sharp(bytes, options)
      .rotate()
      .resize({ width: MAX_WORKING_SIDE, height: MAX_WORKING_SIDE, fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) return { ok: false, message: 'The image has an unsupported colour layout.' };
    const uploadedLongSide = Math.max(meta.width, meta.height);
    const scale = uploadedLongSide / Math.max(info.width, info.height);
    return {
      ok: true,
      image: { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height },
      scale,
      width: Math.round(info.width * scale),
      height: Math.round(info.height * scale),
    };
  } catch {
    return { ok: false, message: 'The image data is corrupt or truncated.' };
  }
}
