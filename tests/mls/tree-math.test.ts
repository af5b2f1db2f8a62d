/** Property tests of the array-tree arithmetic (RFC 9420 Appendix C). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  commonAncestor,
  copath,
  directPath,
  isAncestorOrSelf,
  leafIndex,
  leafRange,
  left,
  level,
  nodeIndex,
  nodeWidth,
  parent,
  right,
  root,
  sibling,
  toLeafIndex,
  toNodeIndex,
  type NodeIndex,
} from '../../lib/mls/tree/tree-math.ts';
import { UsageError } from '../../lib/mls/errors.ts';

// A power-of-two tree and a node inside it.
const treeAndNode = fc
  .integer({ min: 0, max: 16 })
  .chain((k) => fc.tuple(fc.constant(1 << k), fc.integer({ min: 0, max: nodeWidth(1 << k) - 1 })));

// Reference: parent found by searching for the node whose child is x.
function slowParent(x: number, n: number): number | undefined {
  for (let p = 1; p < nodeWidth(n); p += 2) {
    const pi = nodeIndex(p);
    if (left(pi) === x || right(pi) === x) return p;
  }
  return undefined;
}

describe('tree math properties', () => {
  it('leaf/node index conversion round-trips', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 29 }), (l) => {
        expect(toLeafIndex(toNodeIndex(leafIndex(l)))).toBe(l);
      }),
    );
  });

  it('parent is the node whose child is x; root has no parent', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 }).chain((k) =>
          fc.tuple(fc.constant(1 << k), fc.integer({ min: 0, max: nodeWidth(1 << k) - 1 })),
        ),
        ([n, x]) => {
          const xi = nodeIndex(x);
          if (xi === root(n)) {
            expect(() => parent(xi, n)).toThrow(UsageError);
          } else {
            expect(parent(xi, n)).toBe(slowParent(x, n));
          }
        },
      ),
    );
  });

  it('children are one level below their parent and sibling is symmetric', () => {
    fc.assert(
      fc.property(treeAndNode, ([n, x]) => {
        const xi = nodeIndex(x);
        if (level(xi) > 0) {
          expect(level(left(xi))).toBe(level(xi) - 1);
          expect(level(right(xi))).toBe(level(xi) - 1);
          expect(left(xi)).toBeLessThan(xi);
          expect(right(xi)).toBeGreaterThan(xi);
        }
        if (xi !== root(n)) expect(sibling(sibling(xi, n), n)).toBe(xi);
      }),
    );
  });

  it('direct path ends at root, has length log2(n), copath pairs with it', () => {
    fc.assert(
      fc.property(treeAndNode, ([n, x]) => {
        const xi = nodeIndex(x);
        const dp = directPath(xi, n);
        const cp = copath(xi, n);
        expect(cp.length).toBe(dp.length);
        expect(dp.length).toBe(Math.log2(n) - level(xi));
        if (dp.length > 0) expect(dp[dp.length - 1]).toBe(root(n));
        let child: NodeIndex = xi;
        dp.forEach((p, i) => {
          expect(parent(child, n)).toBe(p);
          expect(sibling(child, n)).toBe(cp[i]);
          expect(isAncestorOrSelf(p, xi)).toBe(true);
          expect(isAncestorOrSelf(cp[i]!, xi)).toBe(false);
          child = p;
        });
      }),
    );
  });

  it('common ancestor is the lowest shared node of both direct paths', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 12 }).chain((k) => {
          const w = nodeWidth(1 << k) - 1;
          return fc.tuple(fc.constant(1 << k), fc.integer({ min: 0, max: w }), fc.integer({ min: 0, max: w }));
        }),
        ([n, x, y]) => {
          const xi = nodeIndex(x);
          const yi = nodeIndex(y);
          const dx = new Set<number>([x, ...directPath(xi, n)]);
          const shared = [y, ...directPath(yi, n)].filter((z) => dx.has(z));
          const lowest = shared.reduce((a, b) => (level(nodeIndex(a)) <= level(nodeIndex(b)) ? a : b));
          expect(commonAncestor(xi, yi)).toBe(lowest);
        },
      ),
    );
  });

  it('leafRange covers exactly the leaves below a node', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }).chain((k) =>
          fc.tuple(fc.constant(1 << k), fc.integer({ min: 0, max: nodeWidth(1 << k) - 1 })),
        ),
        ([n, x]) => {
          const xi = nodeIndex(x);
          const [a, b] = leafRange(xi);
          for (let l = 0; l < n; l++) {
            expect(isAncestorOrSelf(xi, toNodeIndex(leafIndex(l)))).toBe(l >= a && l < b);
          }
        },
      ),
    );
  });

  it('rejects leaf counts that are not powers of two', () => {
    expect(() => root(3)).toThrow(UsageError);
    expect(() => root(0)).toThrow(UsageError);
    expect(() => leafIndex(-1)).toThrow(UsageError);
    expect(() => toLeafIndex(nodeIndex(3))).toThrow(UsageError);
  });
});
