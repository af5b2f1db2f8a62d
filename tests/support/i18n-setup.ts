// vitest setupFiles: every test file starts with English messages (tests/support/i18n.ts); a test may pick another.
import { useLocale } from './i18n.ts';

useLocale('en');
