/**
 * Renders assets/icon.svg to the PNG sizes both stores and browsers use
 * (public/icon/<size>.png, which WXT puts in both manifests). The PNGs are
 * committed, so a build needs no rasterizer; run this after changing the SVG:
 *   npx tsx scripts/render-icons.ts
 * Chromium draws the SVG (the same browser the e2e tests use), on a
 * transparent background.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import puppeteer from 'puppeteer';
import { chromiumPath, ROOT } from '../tests/support/extension.ts';

export const ICON_SIZES = [16, 32, 48, 128] as const;

async function main(): Promise<void> {
  const svg = readFileSync(path.join(ROOT, 'assets', 'icon.svg'), 'utf8');
  const out = path.join(ROOT, 'public', 'icon');
  mkdirSync(out, { recursive: true });
  const browser = await puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    for (const size of ICON_SIZES) {
      await page.setViewport({ width: size, height: size, deviceScaleFactor: 1 });
      const sized = svg.replace('width="128" height="128"', `width="${size}" height="${size}"`);
      await page.setContent(`<html><body style="margin:0;background:transparent">${sized}</body></html>`);
      const png = await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
      writeFileSync(path.join(out, `${size}.png`), png);
      console.log(`public/icon/${size}.png`);
    }
  } finally {
    await browser.close();
  }
}

await main();
