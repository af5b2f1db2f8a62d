/** A file size for people, in the page's language: "512 B", "1.2 MB", "25 MB" (decimal units, as file managers show). */
export function fileSize(bytes: number, locale?: string): string {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;
  let n = bytes;
  let u = 0;
  while (n >= 1000 && u < units.length - 1) {
    n /= 1000;
    u++;
  }
  return new Intl.NumberFormat(locale, { style: 'unit', unit: units[u], unitDisplay: 'short', maximumFractionDigits: n < 10 && u > 0 ? 1 : 0 }).format(n);
}
