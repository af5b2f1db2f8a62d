/**
 * The preview of an image to send (issue #20), made here, on the sending
 * device, in the view: the view already holds the File the person picked,
 * and decoding an image needs no secret, so the background (which holds
 * every key) never decodes an image at all, and a Firefox event page with
 * no OffscreenCanvas is no problem. A small WebP (JPEG where WebP cannot be
 * encoded), at most MAX_PREVIEW_BYTES; the background checks it again as
 * recipients will (attachment-part.ts ATT-THUMB-1). No preview when the
 * image cannot be decoded: the file then goes as a card.
 */
import { MAX_PREVIEW_BYTES } from '../protocol/attachments.ts';

const ATTEMPTS = [
  { side: 240, quality: 0.6 },
  { side: 160, quality: 0.5 },
  { side: 120, quality: 0.4 },
  { side: 80, quality: 0.3 },
];

export async function makePreview(file: Blob): Promise<{ type: 'image/jpeg' | 'image/webp'; data: Uint8Array } | undefined> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return undefined;
  }
  try {
    for (const { side, quality } of ATTEMPTS) {
      const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
      const w = Math.max(1, Math.round(bitmap.width * scale));
      const h = Math.max(1, Math.round(bitmap.height * scale));
      for (const type of ['image/webp', 'image/jpeg'] as const) {
        const blob = await encode(bitmap, w, h, type, quality);
        // A browser that cannot encode WebP answers PNG: then JPEG.
        if (blob === null || blob.type !== type) continue;
        if (blob.size <= MAX_PREVIEW_BYTES) return { type, data: new Uint8Array(await blob.arrayBuffer()) };
        break;
      }
    }
    return undefined;
  } finally {
    bitmap.close();
  }
}

async function encode(bitmap: ImageBitmap, w: number, h: number, type: string, quality: number): Promise<Blob | null> {
  if (typeof OffscreenCanvas !== 'undefined') {
    const canvas = new OffscreenCanvas(w, h);
    canvas.getContext('2d')?.drawImage(bitmap, 0, 0, w, h);
    return canvas.convertToBlob({ type, quality }).catch(() => null);
  }
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  canvas.getContext('2d')?.drawImage(bitmap, 0, 0, w, h);
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}
