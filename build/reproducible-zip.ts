/**
 * Store packages that anyone can rebuild byte for byte. WXT's zips carry the
 * build's wall-clock time in every entry; re-packing them with entries in
 * sorted order, one fixed timestamp and fixed attributes makes the archive a
 * function of the files alone, so two clones of one commit give the same
 * SHA-256 (tests/build/reproducible-zip.test.ts).
 */
import { unzipSync, zipSync, type Zippable } from 'fflate';

/** 1980-01-01 00:00 (local), the earliest time a zip entry can hold; any fixed value would do. */
const FIXED_TIME = new Date(1980, 0, 1, 0, 0, 0);
const DEFLATE_LEVEL = 9;

/** The same entries, in byte order of their names, each stamped with FIXED_TIME. */
export function reproducibleZip(zip: Uint8Array): Uint8Array {
  const entries = unzipSync(zip);
  const names = Object.keys(entries)
    .filter((name) => !name.endsWith('/'))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: Zippable = {};
  for (const name of names) out[name] = [entries[name]!, { mtime: FIXED_TIME, level: DEFLATE_LEVEL, os: 3, attrs: 0o100644 << 16 }];
  return zipSync(out);
}
