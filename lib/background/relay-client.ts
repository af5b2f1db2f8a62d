/** The relay health check (the contract's `health` route): is a MicroChat relay answering at this URL? */
import { routePath } from '../protocol/relay.ts';
import { t } from '../platform/i18n.ts';

export interface HealthResult {
  ok: boolean;
  detail?: string;
}

/** GET /healthz with a timeout; never throws. */
export async function checkRelayHealth(relayUrl: string, timeoutMs = 5000, fetchImpl: typeof fetch = fetch): Promise<HealthResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetchImpl(relayUrl + routePath('health'), { signal: controller.signal, cache: 'no-store', credentials: 'omit' });
    if (!res.ok) return { ok: false, detail: t('bg_relay_answered', res.status) };
    // Safe: a body that is not JSON stays null and is answered just below as not a relay.
    const body: unknown = await res.json().catch(() => null);
    if (typeof body !== 'object' || body === null || (body as { ok?: unknown }).ok !== true) {
      return { ok: false, detail: t('bg_not_a_relay') };
    }
    return { ok: true };
  } catch (err) {
    // Our own timeout aborts the fetch; anything else thrown by fetch means the relay was not reached.
    const aborted = err instanceof Error && err.name === 'AbortError';
    return { ok: false, detail: aborted ? t('bg_relay_timeout') : t('bg_relay_unreachable') };
  } finally {
    clearTimeout(timer);
  }
}
