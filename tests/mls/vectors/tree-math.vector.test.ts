/** Official tree-math vectors (RFC 9420 Appendix C): every case, every node. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  left,
  nodeIndex,
  nodeWidth,
  parent,
  right,
  root,
  sibling,
  isLeaf,
  type NodeIndex,
} from '../../../lib/mls/tree/tree-math.ts';

interface TreeMathCase {
  n_leaves: number;
  n_nodes: number;
  root: number;
  left: (number | null)[];
  right: (number | null)[];
  parent: (number | null)[];
  sibling: (number | null)[];
}

const cases = JSON.parse(
  readFileSync(new URL('../../vectors/data/tree-math.json', import.meta.url), 'utf8'),
) as TreeMathCase[];

const orNull = (f: () => NodeIndex): number | null => {
  try {
    return f();
  } catch {
    return null;
  }
};

describe('tree-math.json', () => {
  cases.forEach((c, i) => {
    it(`case ${i} (n_leaves ${c.n_leaves})`, () => {
      const n = c.n_leaves;
      expect(nodeWidth(n)).toBe(c.n_nodes);
      expect(root(n)).toBe(c.root);
      for (let x = 0; x < c.n_nodes; x++) {
        const ni = nodeIndex(x);
        expect(isLeaf(ni) ? null : left(ni)).toBe(c.left[x] ?? null);
        expect(isLeaf(ni) ? null : right(ni)).toBe(c.right[x] ?? null);
        expect(orNull(() => parent(ni, n))).toBe(c.parent[x] ?? null);
        expect(orNull(() => sibling(ni, n))).toBe(c.sibling[x] ?? null);
      }
    });
  });
});
