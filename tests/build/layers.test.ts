/**
 * The size half of the layer rule: no source file under lib/ grows past 600
 * lines, so each module stays one idea a newcomer can read in a sitting. (The
 * import directions and cycles are checked by `npm run deps`, with
 * .dependency-cruiser.cjs.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAX_LINES = 600;
const SOURCE = /\.(ts|svelte)$/;

function linesOf(file: string): number {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  if (text === '') return 0;
  // A final newline ends the last line rather than starting another (as `wc -l` counts).
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

describe('layers', () => {
  it(`no file under lib/ is over ${MAX_LINES} lines`, () => {
    const files = readdirSync(path.join(ROOT, 'lib'), { recursive: true, encoding: 'utf8' })
      .map((name) => path.posix.join('lib', name.split(path.sep).join('/')))
      .filter((file) => SOURCE.test(file));
    expect(files.length).toBeGreaterThan(0);
    const over = files
      .map((file) => ({ file, lines: linesOf(file) }))
      .filter(({ lines }) => lines > MAX_LINES)
      .sort((a, b) => b.lines - a.lines)
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    expect(over, `split these into modules of one idea each:\n${over.join('\n')}`).toEqual([]);
  });
});
