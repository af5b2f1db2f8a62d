/**
 * An invite code as a QR code, drawn by the view as SVG from the module
 * matrix `uqr` encodes (never a string of markup): one path of dark modules,
 * each row's runs of dark modules as one rectangle.
 *
 * ECC level M (15 % may be damaged) suits a code read off a screen; the
 * border is the four-module quiet zone the QR standard asks for, so a scanner
 * finds the code even against a dark page.
 */
import { encode } from 'uqr';

export const QR_QUIET_ZONE = 4;

export interface QrDrawing {
  /** Modules per side, quiet zone included. */
  size: number;
  /** SVG path data of the dark modules, one unit per module. */
  path: string;
  /** The matrix it was drawn from: true is dark. */
  matrix: boolean[][];
}

export function qrDrawing(text: string): QrDrawing {
  const { data, size } = encode(text, { ecc: 'M', border: QR_QUIET_ZONE });
  return { size, path: darkModulesPath(data), matrix: data };
}

export function darkModulesPath(matrix: readonly (readonly boolean[])[]): string {
  const parts: string[] = [];
  matrix.forEach((row, y) => {
    let x = 0;
    while (x < row.length) {
      if (!row[x]) {
        x++;
        continue;
      }
      const start = x;
      while (x < row.length && row[x]) x++;
      parts.push(`M${start} ${y}h${x - start}v1h-${x - start}z`);
    }
  });
  return parts.join('');
}
