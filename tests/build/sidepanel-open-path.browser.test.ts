/**
 * Opening the side panel loads only what showing a conversation needs (issue #17,
 * "the side panel stays fast"): the dialogs and screens listed in
 * components/lazy-views.ts are their own chunks, loaded the first time they are
 * shown. A static import of one of them anywhere on the open path would quietly
 * put it back in the entry chunk; this checks the built bundles.
 *
 * The open path of a page is its entry script and every chunk it imports
 * statically, transitively (what the browser must fetch, parse and compile before
 * the first render). A lazy view is recognised by its own data-testid
 * attributes: those written in its .svelte file and in no other view. Each must
 * be found in the build (so the marker is real), and none on the open path. The
 * passkey library and the QR encoder, which only lazy views use, are recognised
 * by their own error messages. The popup is checked the same way.
 *
 * In the e2e project (hence `.browser.test.ts`): its globalSetup builds the
 * extension for Chrome and Firefox first, so the bundles checked are fresh.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/extension.ts';

const LAZY_VIEWS_FILE = path.join(ROOT, 'components', 'lazy-views.ts');
const VIEW_DIRS = ['components', 'entrypoints/sidepanel', 'entrypoints/popup'];
const PACKAGE_MARKERS = {
  '@simplewebauthn/browser': 'WebAuthn is not supported in this browser',
  uqr: 'uqr only supports encoding',
} as const;

function svelteFiles(): string[] {
  return VIEW_DIRS.flatMap((dir) =>
    readdirSync(path.join(ROOT, dir))
      .filter((f) => f.endsWith('.svelte'))
      .map((f) => path.join(ROOT, dir, f)),
  );
}

function literalTestIds(file: string): Set<string> {
  return new Set([...readFileSync(file, 'utf8').matchAll(/data-testid="([a-z0-9-]+)"/g)].map((m) => m[1]!));
}

/** Each lazy view (by file name) with the data-testids that only it writes. */
function lazyViewMarkers(): Map<string, string[]> {
  const names = [...readFileSync(LAZY_VIEWS_FILE, 'utf8').matchAll(/import\('\.\/([A-Za-z]+)\.svelte'\)/g)].map((m) => m[1]!);
  const ids = new Map(svelteFiles().map((f) => [path.basename(f, '.svelte'), literalTestIds(f)] as const));
  return new Map(
    names.map((name) => {
      const own = [...(ids.get(name) ?? [])].filter((id) => [...ids].every(([other, set]) => other === name || !set.has(id)));
      return [name, own.map((id) => `data-testid="${id}"`)];
    }),
  );
}

/** The entry script of an HTML page and every chunk it imports statically, transitively. */
function openPath(outDir: string, page: string): string[] {
  const html = readFileSync(path.join(outDir, page), 'utf8');
  const entry = /<script type="module"[^>]*src="\/([^"]+\.js)"/.exec(html)?.[1];
  if (entry === undefined) throw new Error(`${page} has no module entry script`);
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(file, 'utf8');
    // Static imports only: `import{…}from"./x.js"`, `export{…}from"./x.js"`, `import"./x.js"`; never `import("./x.js")`.
    for (const m of code.matchAll(/\bfrom\s*["']([^"']+\.js)["']|\bimport\s*["']([^"']+\.js)["']/g)) {
      visit(path.resolve(path.dirname(file), (m[1] ?? m[2])!));
    }
  };
  visit(path.join(outDir, entry));
  return [...seen];
}

function allChunks(outDir: string): string[] {
  return readdirSync(path.join(outDir, 'chunks'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => path.join(outDir, 'chunks', f));
}

describe('opening the side panel loads no dialog it does not show', () => {
  const markers = lazyViewMarkers();

  it('every lazy view has data-testids of its own to recognise it by', () => {
    expect(markers.size).toBeGreaterThanOrEqual(10);
    const without = [...markers].filter(([, own]) => own.length === 0).map(([name]) => name);
    expect(without).toEqual([]);
  });

  for (const target of ['chrome-mv3', 'firefox-mv3']) {
    const outDir = path.join(ROOT, '.output', target);

    it(`.output/${target}: each lazy view and package is in the build`, () => {
      expect(existsSync(outDir)).toBe(true);
      const built = allChunks(outDir).map((f) => readFileSync(f, 'utf8'));
      const missing = [
        ...[...markers].filter(([, own]) => !own.some((m) => built.some((code) => code.includes(m)))).map(([name]) => name),
        ...Object.entries(PACKAGE_MARKERS)
          .filter(([, marker]) => !built.some((code) => code.includes(marker)))
          .map(([name]) => name),
      ];
      expect(missing).toEqual([]);
    });

    for (const page of ['sidepanel.html', 'popup.html']) {
      it(`.output/${target}/${page}: its open path has none of them`, () => {
        const files = openPath(outDir, page);
        expect(files.some((f) => path.basename(f).startsWith(page.replace('.html', '-')))).toBe(true);
        const code = files.map((f) => [path.relative(outDir, f), readFileSync(f, 'utf8')] as const);
        const found = [
          ...[...markers].flatMap(([name, own]) => own.flatMap((m) => code.filter(([, c]) => c.includes(m)).map(([f]) => `${name} (${m}) in ${f}`))),
          ...Object.entries(PACKAGE_MARKERS).flatMap(([name, m]) => code.filter(([, c]) => c.includes(m)).map(([f]) => `${name} in ${f}`)),
        ];
        expect(found).toEqual([]);
      });
    }
  }
});
