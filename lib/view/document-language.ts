/**
 * The page's language and writing direction, from the messages it shows:
 * `lang` for screen readers, hyphenation and fonts; `dir` so that a
 * right-to-left language (Arabic) lays the whole page out from the right. The
 * CSS uses logical properties (margin-inline-start, text-align: start...), so
 * setting `dir` is all the mirroring takes.
 *
 * Taken from messages.json itself (`locale_code`, `locale_dir`) rather than
 * from the browser's UI language: a browser in a language we have no
 * translation for shows English, and must then lay it out left to right.
 */
import { messageDirection, messageLanguage } from '../platform/i18n.ts';

export function applyDocumentLanguage(root: HTMLElement = document.documentElement): void {
  root.lang = messageLanguage();
  root.dir = messageDirection();
}
