/**
 * No component or view module shows a sentence of its own: every word on
 * screen (text, and the attributes a person reads or hears: title,
 * aria-label, placeholder, alt, and the components' label-like props) comes
 * from `t(…)`, so it exists in every language. The templates are parsed with
 * Svelte's compiler and the scripts with TypeScript's; the test fails on
 *  - a text node or a user-facing attribute written out with letters in it,
 *  - a string in a script or template expression that reads as words
 *    (starts with a capital followed by a small letter: 'Cancel', 'Joining…').
 * Symbols (+, ⋯, ←, ✓✓) carry no language and pass.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'svelte/compiler';
import ts from 'typescript';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Attributes and component props that a person reads or hears. */
const USER_FACING_ATTRIBUTES = new Set(['title', 'aria-label', 'aria-description', 'aria-roledescription', 'aria-valuetext', 'placeholder', 'alt', 'label', 'message', 'confirmlabel', 'text']);

/**
 * Strings that look like words but are not shown, each for a reason:
 * KeyboardEvent.key names the handlers compare with, DOMException names lib/view/webauthn.ts tells apart, and the
 * link code's format in its field's placeholder (letters of the code's alphabet, the same in every language).
 */
const NOT_WORDS = new Set([
  ...['Escape', 'Enter', 'Tab', 'ArrowDown', 'ArrowUp', 'ArrowLeft', 'ArrowRight', 'Home', 'End'],
  ...['NotAllowedError', 'AbortError', 'InvalidStateError'],
  'ABCD-EFGH-JKMNP',
]);

const LETTER = /\p{L}/u;
const READS_AS_WORDS = /^\s*\p{Lu}\p{Ll}/u;

export interface Finding {
  where: string;
  text: string;
}

function isWords(text: string): boolean {
  return READS_AS_WORDS.test(text) && !NOT_WORDS.has(text.trim());
}

/** String literals and template-literal parts in TypeScript source that read as words. */
export function scriptFindings(source: string, where: string): Finding[] {
  const out: Finding[] = [];
  const file = ts.createSourceFile('x.ts', source, ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return;
    let text: string | undefined;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) text = node.text;
    else if (ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) text = node.text;
    if (text !== undefined && isWords(text)) out.push({ where, text });
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

type AnyNode = { type?: string; [key: string]: unknown };

/** What a component's markup writes out: text nodes, user-facing attributes, and literals inside its expressions. */
export function templateFindings(source: string, where: string): Finding[] {
  const out: Finding[] = [];
  const ast = parse(source, { modern: true });
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    const n = node as AnyNode;
    if (n.type === 'Text' && typeof n.data === 'string' && LETTER.test(n.data)) out.push({ where, text: n.data.trim() });
    // style:height="{h}px": a CSS unit, not words.
    if (n.type === 'StyleDirective') return;
    if (n.type === 'Attribute' && typeof n.name === 'string') {
      const value = n.value;
      // Only static text in a user-facing attribute is a finding; {expressions} are walked for literals below.
      if (Array.isArray(value)) {
        for (const part of value as AnyNode[]) {
          const text = String(part.data);
          if (part.type === 'Text' && USER_FACING_ATTRIBUTES.has(n.name.toLowerCase()) && LETTER.test(text) && !NOT_WORDS.has(text.trim())) {
            out.push({ where: `${where} [${n.name}]`, text });
          } else if (part.type !== 'Text') walk(part);
        }
      } else walk(value);
      return;
    }
    if (n.type === 'Literal' && typeof n.value === 'string' && isWords(n.value)) out.push({ where, text: n.value });
    if (n.type === 'TemplateElement') {
      const cooked = (n.value as { cooked?: string }).cooked ?? '';
      if (isWords(cooked)) out.push({ where, text: cooked });
    }
    if (n.type === 'Comment') return;
    for (const [key, child] of Object.entries(n)) if (key !== 'metadata' && key !== 'loc') walk(child);
  };
  walk(ast.fragment);
  return out;
}

function scriptsOf(svelte: string): string[] {
  return [...svelte.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
}

function filesIn(dir: string, ext: RegExp): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => ext.test(name))
    .map((name) => path.posix.join(dir, name.split(path.sep).join('/')));
}

const COMPONENTS = [...filesIn('components', /\.svelte$/), ...filesIn('entrypoints', /\.svelte$/)];
const VIEW_MODULES = filesIn('lib/view', /\.ts$/);

describe('no literal user-facing strings', () => {
  it('finds what it is meant to find (the check can fail)', () => {
    const sample = `<script lang="ts">const a = 'Joining…'; const k = 'Escape';</script>
      <p title="Close it">Hello {name}</p><Foo label="Bar" /><b>{x ? 'Read more' : t('k')}</b><i>+ ⋯ ✓✓</i>
      <button aria-label={\`Options for \${n}\`} class="primary" data-testid="send-it">✕</button>`;
    const found = [...templateFindings(sample, 's'), ...scriptsOf(sample).flatMap((s) => scriptFindings(s, 's'))].map((f) => f.text);
    expect(found.sort()).toEqual(['Bar', 'Close it', 'Hello', 'Joining…', 'Options for ', 'Read more'].sort());
  });

  it.each(COMPONENTS)('%s takes its words from t()', (file) => {
    const source = readFileSync(path.join(ROOT, file), 'utf8');
    const findings = [...templateFindings(source, file), ...scriptsOf(source).flatMap((s) => scriptFindings(s, `${file} <script>`))];
    expect(findings).toEqual([]);
  });

  it.each(VIEW_MODULES)('%s takes its words from t()', (file) => {
    expect(scriptFindings(readFileSync(path.join(ROOT, file), 'utf8'), file)).toEqual([]);
  });

  it('inspects every component and view module', () => {
    expect(COMPONENTS.length).toBeGreaterThan(30);
    expect(VIEW_MODULES.length).toBeGreaterThan(20);
  });
});
