/**
 * `npm run zip`: the Chrome and Firefox packages and the sources zip that
 * Firefox's reviewers rebuild from, made reproducible (build/reproducible-zip.ts),
 * with their SHA-256 printed and written next to them, so anyone can check that
 * a store's package is what these sources build.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { reproducibleZip } from '../build/reproducible-zip.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const OUTPUT = path.join(ROOT, '.output');
const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

const wxt = (...args: string[]): void => {
  execFileSync('npx', ['wxt', 'zip', ...args], { cwd: ROOT, stdio: 'inherit' });
};
wxt();
wxt('-b', 'firefox', '--mv3');

const zips = readdirSync(OUTPUT)
  .filter((f) => f.startsWith(`microchat-${version}-`) && f.endsWith('.zip'))
  .sort();
const lines: string[] = [];
for (const file of zips) {
  const full = path.join(OUTPUT, file);
  const bytes = reproducibleZip(readFileSync(full));
  writeFileSync(full, bytes);
  lines.push(`${createHash('sha256').update(bytes).digest('hex')}  ${file}`);
}
const sums = `microchat-${version}-SHA256SUMS.txt`;
writeFileSync(path.join(OUTPUT, sums), lines.join('\n') + '\n');
console.log(`\nSHA-256 (also in .output/${sums}):`);
for (const line of lines) console.log(line);
