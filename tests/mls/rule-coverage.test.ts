/**
 * The rule table (`lib/mls/rules.ts`) against the code and the tests:
 *  - every rule ID in the table is exercised by a test: it appears in the
 *    code of a test file (an expected error, a `toThrow(/V-…/)`, a helper's
 *    rule argument), not only in a comment or a test's title;
 *  - every rule-shaped token in the engine's sources is in the table, so a
 *    typo in a message string or a comment cannot name a rule that is not.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RULES, type RuleId } from '../../lib/mls/rules.ts';

const root = new URL('../..', import.meta.url).pathname;

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'data') out.push(...filesUnder(path, keep));
    } else if (keep(entry.name)) {
      out.push(path);
    }
  }
  return out;
}

/** A test file's code without comments and without the titles of its tests and suites. */
function testCode(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '')
    .replace(/\b(?:it|test|describe)(?:\.\w+)*\(\s*(['"`])(?:\\.|(?!\1)[^\\])*\1/g, '');
}

/** Whole-ID match: `V-LN-1` does not match inside `V-LN-10`. */
function mentions(text: string, id: string): boolean {
  return new RegExp(`(?<![\\w-])${id}(?![0-9])`).test(text);
}

const ruleIds = Object.keys(RULES) as RuleId[];
const testFiles = filesUnder(join(root, 'tests'), (name) => name.endsWith('.test.ts'));
const testSources = testFiles.map((path) => ({ path: relative(root, path), code: testCode(readFileSync(path, 'utf8')) }));

describe('rule IDs', () => {
  it('the table is not empty and each rule says where it comes from', () => {
    expect(ruleIds.length).toBeGreaterThan(100);
    for (const id of ruleIds) {
      const rule = RULES[id];
      expect('rfc' in rule ? rule.rfc : rule.own, id).toMatch(/\S/);
      expect(rule.summary, id).toMatch(/\S/);
    }
  });

  it('every rule ID in the table is exercised by the code of at least one test', () => {
    const untested = ruleIds.filter((id) => !testSources.some((t) => mentions(t.code, id)));
    expect(untested).toEqual([]);
  });

  it('every rule ID written in lib/mls is one of the table', () => {
    const engine = filesUnder(join(root, 'lib/mls'), (name) => name.endsWith('.ts'));
    const known = new Set<string>(ruleIds);
    const unknown: string[] = [];
    for (const path of engine) {
      for (const m of readFileSync(path, 'utf8').matchAll(/(?<![\w-])V-[A-Z]+(?:-[A-Z]+)*-\d+/g)) {
        if (!known.has(m[0])) unknown.push(`${relative(root, path)}: ${m[0]}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});
