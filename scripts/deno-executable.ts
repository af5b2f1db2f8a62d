/**
 * The Deno executable shipped by the `deno` npm package (its platform
 * package, e.g. @deno/linux-x64-glibc, carries the binary; nothing is
 * downloaded). npm's `.bin/deno` may be a Node shim that runs Deno as a child
 * and does not forward signals, so a relay stopped through it would keep
 * running and hold its port: callers spawn the executable itself.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export function denoExecutable(root: string): string {
  const exe = path.join(root, 'node_modules', 'deno', process.platform === 'win32' ? 'deno.exe' : 'deno');
  if (existsSync(exe)) return exe;
  // The package's own installer links the binary from its platform package (no network).
  const api = createRequire(path.join(root, 'package.json'))('deno/install_api.cjs') as { runInstall(): string };
  return api.runInstall();
}
