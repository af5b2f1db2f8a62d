/**
 * `npm start`: build the extension, run the relay on 127.0.0.1 with its
 * embedded store, and tell the person how to load the extension.
 *
 * Environment: RELAY_PORT (default 8787), RELAY_DATA_DIR (default .data/relay).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { denoExecutable } from './deno-executable.ts';

const root = path.resolve(import.meta.dirname, '..');
const bin = (name: string): string => path.join(root, 'node_modules', '.bin', name);
const port = process.env.RELAY_PORT ?? '8787';
const dataDir = path.resolve(root, process.env.RELAY_DATA_DIR ?? '.data/relay');

for (const args of [['build'], ['build', '-b', 'firefox', '--mv3']]) {
  const built = spawnSync(bin('wxt'), args, { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

mkdirSync(dataDir, { recursive: true });
const relay = spawn(
  denoExecutable(root),
  ['run', '--quiet', '--allow-net', '--allow-read', '--allow-write', '--allow-env', 'relay/main.ts', '--host', '127.0.0.1', '--port', port, '--data-dir', dataDir],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' } },
);

relay.stdout.setEncoding('utf8');
relay.stdout.on('data', (chunk: string) => {
  process.stdout.write(chunk);
  if (chunk.includes('listening on')) {
    const chrome = path.join(root, '.output', 'chrome-mv3');
    const firefox = path.join(root, '.output', 'firefox-mv3', 'manifest.json');
    process.stdout.write(
      [
        '',
        `MicroChat is running. Relay: http://127.0.0.1:${port} (data in ${dataDir})`,
        '',
        'Load the extension:',
        `  Chrome/Chromium: open chrome://extensions, turn on Developer mode, "Load unpacked", choose`,
        `    ${chrome}`,
        `  Firefox: open about:debugging#/runtime/this-firefox, "Load Temporary Add-on…", choose`,
        `    ${firefox}`,
        '',
        'Press Ctrl+C to stop the relay.',
        '',
      ].join('\n'),
    );
  }
});

const stop = (): void => {
  relay.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
relay.on('exit', (code, signal) => process.exit(signal ? 0 : (code ?? 0)));
