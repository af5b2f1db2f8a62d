/** The background's HTTP client for the relay. */

export interface HealthResult {
  ok: boolean;
  detail?: string;
}

/** GET /healthz with a timeout; never throws. */
export async function checkRelayHealth(relayUrl: string, timeoutMs = 5000, fetchImpl: typeof fetch = fetch): Promise<HealthResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetchImpl(`${relayUrl}/healthz`, { signal: controller.signal, cache: 'no-store', credentials: 'omit' });
    if (!res.ok) return { ok: false, detail: `The relay answered ${res.status}.` };
    const body: unknown = await res.json().catch(() => null);
    if (typeof body !== 'object' || body === null || (body as { ok?: unknown }).ok !== true) {
      return { ok: false, detail: 'That server does not look like a MicroChat relay.' };
    }
    return { ok: true };
  } catch (err) {
    const aborted = err instanceof Error && err.name === 'AbortError';
    return { ok: false, detail: aborted ? 'The relay did not answer in time.' : 'The relay could not be reached.' };
  } finally {
    clearTimeout(timer);
  }
}
