/**
 * vitest globalSetup for the e2e project: build the extension (Chrome and Firefox) once per run so
 * the tests always drive the code under test, never a stale build.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  if (process.env.MICROCHAT_E2E_SKIP_BUILD === '1') return;
  const root = path.resolve(import.meta.dirname, '../..');
  const wxt = path.join(root, 'node_modules', '.bin', 'wxt');
  execFileSync(wxt, ['build'], { cwd: root, stdio: 'inherit' });
  execFileSync(wxt, ['build', '-b', 'firefox', '--mv3'], { cwd: root, stdio: 'inherit' });
}
