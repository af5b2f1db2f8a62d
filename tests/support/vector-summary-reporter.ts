/**
 * Prints a files × cipher-suites table of the official RFC 9420 test vectors
 * after a run. A vector test is any test in a file with "vector" in its path;
 * its cipher suite is read from "suite N" in its full name (files without
 * suites are counted in the "-" column).
 */
import type { Reporter, TestModule } from 'vitest/node';
import path from 'node:path';

type Tally = { passed: number; failed: number };

export default class VectorSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const table = new Map<string, Map<string, Tally>>();
    const suites = new Set<string>();
    for (const mod of testModules) {
      if (!mod.moduleId.includes('vector')) continue;
      const file = path.basename(mod.moduleId).replace(/\.vectors?\.test\.ts$/, '').replace(/\.test\.ts$/, '');
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state !== 'passed' && state !== 'failed') continue;
        const suite = /suite (\d+)/.exec(test.fullName)?.[1] ?? '-';
        suites.add(suite);
        const row = table.get(file) ?? new Map<string, Tally>();
        table.set(file, row);
        const cell = row.get(suite) ?? { passed: 0, failed: 0 };
        row.set(suite, cell);
        cell[state] += 1;
      }
    }
    if (table.size === 0) return;
    const cols = [...suites].sort((a, b) => (a === '-' ? -1 : b === '-' ? 1 : Number(a) - Number(b)));
    const fmt = (t: Tally | undefined): string => (t ? `${t.passed}/${t.passed + t.failed}` : '');
    const header = ['vector file', ...cols.map((c) => (c === '-' ? 'no suite' : `suite ${c}`)), 'total'];
    const rows = [...table.keys()].sort().map((file) => {
      const row = table.get(file)!;
      const total = [...row.values()].reduce((a, t) => ({ passed: a.passed + t.passed, failed: a.failed + t.failed }), { passed: 0, failed: 0 });
      const pct = total.passed + total.failed === 0 ? 0 : (100 * total.passed) / (total.passed + total.failed);
      return [file, ...cols.map((c) => fmt(row.get(c))), `${fmt(total)} (${pct.toFixed(0)}%)`];
    });
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
    const out = [
      '',
      'RFC 9420 test vectors (passed/run)',
      line(header),
      `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
      ...rows.map(line),
      '',
    ];
    process.stdout.write(out.join('\n') + '\n');
  }
}
