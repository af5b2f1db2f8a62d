/**
 * The built extension never contains `@wireapp/core-crypto` (OpenMLS,
 * GPL-3.0): it is a devDependency for the interop tests and the benchmark.
 * `npm run deps` forbids importing it from shipped code
 * (nothing-shipped-imports-core-crypto in .dependency-cruiser.cjs); this
 * checks the result, the bundles themselves, for the package's own strings.
 *
 * In the e2e project (hence `.browser.test.ts`): its globalSetup builds the
 * extension for Chrome and Firefox first, so the bundles checked are fresh.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/extension.ts';

const PACKAGE_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.resolve('@wireapp/core-crypto/browser'))));

/** Strings that mark the package: its FFI names, in its JavaScript and in its wasm. */
const MARKERS = ['core_crypto_ffi', 'CoreCryptoFfi', 'core_crypto'] as const;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/** The markers found in a file (read as latin1, so binary files are searched byte for byte). */
function markersIn(file: string): string[] {
  const text = readFileSync(file, 'latin1');
  return MARKERS.filter((m) => text.includes(m));
}

describe('built bundles without @wireapp/core-crypto (GPL-3.0)', () => {
  it('the markers are the package’s: its JavaScript and its wasm carry them', () => {
    const found = new Set(filesUnder(path.join(PACKAGE_DIR, 'browser')).flatMap(markersIn));
    expect([...found].sort()).toEqual([...MARKERS].sort());
  });

  for (const target of ['chrome-mv3', 'firefox-mv3']) {
    it(`.output/${target} has none of them, and no wasm`, () => {
      const files = filesUnder(path.join(ROOT, '.output', target));
      expect(files.length).toBeGreaterThan(0);
      const hits = files.flatMap((f) => markersIn(f).map((m) => `${path.relative(ROOT, f)}: ${m}`));
      expect(hits).toEqual([]);
      const wasm = files.filter((f) => f.endsWith('.wasm') || readFileSync(f).subarray(0, 4).equals(Buffer.from([0, 0x61, 0x73, 0x6d])));
      expect(wasm).toEqual([]);
    });
  }
});
