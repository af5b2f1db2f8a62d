// `npm run bench:mls -- --browser` end to end at its smallest (--quick, N=2):
// the page is bundled and served, both implementations run inside headless
// Chromium on the portable crypto path, and the records come back complete.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInBrowser, type BrowserRecord } from '../../bench/mls-browser.ts';
import { OPERATIONS } from '../../bench/mls-core.ts';

describe('bench:mls --browser', () => {
  it('runs every operation for ours and ts-mls in Chromium and writes mls-browser.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-mls-browser-test-'));
    const progress: string[] = [];
    const printed: string[] = [];
    try {
      const records = await runInBrowser(['--quick', '--n=2'], { resultsDir: dir, progress: (l) => progress.push(l), print: (l) => printed.push(l) });
      const written = JSON.parse(readFileSync(join(dir, 'mls-browser.json'), 'utf8')) as BrowserRecord[];
      expect(written).toEqual(records);
      expect(records.map((r) => r.operation)).toEqual([...OPERATIONS]);
      for (const r of records) {
        expect(r.n).toBe(2);
        expect(r.ours_ms).toBeGreaterThan(0);
        expect(r.peer_ms).toBeGreaterThan(0);
        expect(r.chromium).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      }
      // The page ran on the browser's crypto path, with the fine-grained clock.
      expect(progress.some((l) => l.startsWith('ours: portable path: Ed25519 WebCrypto'))).toBe(true);
      expect(progress.some((l) => l.includes('cross-origin isolated (5 µs timer)'))).toBe(true);
      expect(progress.some((l) => l.startsWith('[page'))).toBe(false);
      expect(printed.some((l) => l.startsWith('commit_populated'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
