/**
 * Operator tool: print the whole relay database as JSON (blobs as hex), e.g.
 * to audit what the relay keeps. Used by the privacy test.
 *
 *   deno run --allow-read --allow-write relay/dump.ts <data-dir>
 */

import { DatabaseSync } from 'node:sqlite';
import { DB_FILE } from './sqlite-store.ts';

interface DenoArgs {
  args: string[];
}
const args = (globalThis as unknown as { Deno: DenoArgs }).Deno.args;
const dir = args[0];
if (dir === undefined) throw new Error('usage: dump.ts <data-dir>');

const db = new DatabaseSync(`${dir.replace(/\/+$/, '')}/${DB_FILE}`);
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const out: Record<string, Record<string, unknown>[]> = {};
const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
for (const t of tables) {
  const name = String(t.name);
  out[name] = db
    .prepare(`SELECT * FROM "${name.replace(/"/g, '""')}"`)
    .all()
    .map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([k, v]) => [k, v instanceof Uint8Array ? { hex: hex(v) } : typeof v === 'bigint' ? String(v) : v]),
      ),
    );
}
db.close();
console.log(JSON.stringify(out));
