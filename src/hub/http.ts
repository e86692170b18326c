import { NetworkError } from "../errors.js";

/**
 * The one door to the network. Every Hub request goes through `createHubFetch`, which
 * - adds the token only to requests for the configured endpoint's origin, re-checked on every
 *   redirect hop (redirects are followed here, never by the transport);
 * - bounds every request in time;
 * - retries 429 and 5xx with exponential backoff and full jitter, honouring `Retry-After`
 *   through a gate shared by every request of the run, so one rate-limit answer slows them all;
 * - turns transport failures into a NetworkError that says whether the Hub was unreachable
 *   (DNS, refused connection) — the signal for falling back to the caches.
 */

export interface HttpSettings {
  endpoint: string;
  token?: string | undefined;
  /** Bound on connecting, on waiting for headers and between body chunks. */
  timeoutMs?: number;
  /** Attempts per request, the first included. */
  maxAttempts?: number;
  /** The transport; undici's fetch with a proxy-aware dispatcher unless a test injects one. */
  transport?: typeof fetch;
  /** Waiting, injectable so tests of backoff need no real time. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  /** Called before a retry; the CLI prints it under --debug. */
  onRetry?: (event: RetryEvent) => void;
}

export interface RetryEvent {
  url: string;
  attempt: number;
  delayMs: number;
  reason: string;
}

export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_ATTEMPTS = 4;
const BACKOFF_BASE_MS = 300;
const BACKOFF_CAP_MS = 8_000;
/** A server asking for a longer pause than this is treated as a refusal, not waited out. */
export const MAX_RETRY_AFTER_MS = 60_000;
const MAX_REDIRECTS = 5;
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
/** Failures that mean the Hub cannot be reached at all: retrying would only delay the fallback. */
const UNREACHABLE_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN"]);

export class UnreachableError extends NetworkError {
  override readonly name: string = "UnreachableError";
}

/** Shared by all requests of one client: nobody sends before `notBefore`. */
class RetryGate {
  notBefore = 0;
  constructor(private readonly now: () => number) {}
  async wait(sleep: (ms: number) => Promise<void>): Promise<void> {
    for (let delay = this.notBefore - this.now(); delay > 0; delay = this.notBefore - this.now()) await sleep(delay);
  }
  pushBack(ms: number): void {
    this.notBefore = Math.max(this.notBefore, this.now() + ms);
  }
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createHubFetch(settings: HttpSettings): typeof fetch {
  const endpointOrigin = new URL(settings.endpoint).origin;
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxAttempts = settings.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const sleep = settings.sleep ?? realSleep;
  const random = settings.random ?? Math.random;
  const gate = new RetryGate(settings.now ?? Date.now);
  let transport: Promise<typeof fetch> | undefined;
  const getTransport = () => (transport ??= settings.transport ? Promise.resolve(settings.transport) : undiciTransport(timeoutMs));

  async function attempt(url: URL, init: RequestInit, headers: Headers): Promise<Response> {
    const send = await getTransport();
    for (let attemptNumber = 1; ; attemptNumber++) {
      await gate.wait(sleep);
      let response: Response;
      try {
        response = await send(url, { ...init, headers, redirect: "manual", signal: requestSignal(init.signal, timeoutMs) });
      } catch (error) {
        const code = errorCode(error);
        if (code && UNREACHABLE_CODES.has(code)) {
          throw new UnreachableError(`cannot reach ${url.origin} (${code}): check the connection, HF_ENDPOINT or HTTPS_PROXY, or run with --offline`, { cause: error });
        }
        if (init.signal?.aborted) throw error;
        if (attemptNumber >= maxAttempts) {
          throw new NetworkError(`request to ${redact(url)} failed ${maxAttempts} times (${code ?? describe(error)}): the Hub is slow or the connection unstable; try again later`, { cause: error });
        }
        const delayMs = backoff(attemptNumber, random);
        settings.onRetry?.({ url: redact(url), attempt: attemptNumber, delayMs, reason: code ?? describe(error) });
        await sleep(delayMs);
        continue;
      }
      if (!RETRYABLE_STATUS.has(response.status)) return response;

      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
      discardBody(response);
      if (retryAfterMs !== undefined && retryAfterMs > MAX_RETRY_AFTER_MS) {
        throw new NetworkError(`the Hub asked to wait ${Math.ceil(retryAfterMs / 1000)} s before retrying (HTTP ${response.status}): try again later`);
      }
      if (attemptNumber >= maxAttempts) {
        throw new NetworkError(`the Hub answered HTTP ${response.status} to ${maxAttempts} attempts for ${redact(url)}: try again later`);
      }
      const delayMs = Math.max(retryAfterMs ?? 0, backoff(attemptNumber, random));
      if (retryAfterMs !== undefined) gate.pushBack(retryAfterMs);
      settings.onRetry?.({ url: redact(url), attempt: attemptNumber, delayMs, reason: `HTTP ${response.status}` });
      await sleep(delayMs);
    }
  }

  return async function hubFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    let url = new URL(input instanceof Request ? input.url : input.toString());
    let method = (init.method ?? "GET").toUpperCase();
    let body = init.body;
    for (let hop = 0; ; hop++) {
      const headers = new Headers(init.headers);
      // The token is for the Hub alone: never forwarded to a CDN, a mirror or a redirect target.
      headers.delete("authorization");
      if (settings.token && url.origin === endpointOrigin) headers.set("authorization", `Bearer ${settings.token}`);
      const response = await attempt(url, { ...init, method, body: body ?? null }, headers);
      const location = response.headers.get("location");
      if (response.status < 300 || response.status >= 400 || response.status === 304 || !location) return response;
      discardBody(response);
      if (hop >= MAX_REDIRECTS) throw new NetworkError(`too many redirects from ${redact(url)}`);
      url = new URL(location, url);
      if (response.status === 303) {
        method = "GET";
        body = undefined;
      }
    }
  };
}

async function undiciTransport(timeoutMs: number): Promise<typeof fetch> {
  // Loaded on first use: offline runs never pay for it.
  const { EnvHttpProxyAgent, fetch: undiciFetch } = await import("undici");
  const dispatcher = new EnvHttpProxyAgent({
    connect: { timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  return ((input: string | URL | Request, init?: RequestInit) =>
    undiciFetch(input as never, { ...(init as object), dispatcher } as never) as unknown as Promise<Response>) as typeof fetch;
}

function requestSignal(outer: AbortSignal | null | undefined, timeoutMs: number): AbortSignal {
  // Twice the idle bound: a request may connect, wait for headers and stream within it.
  const timeout = AbortSignal.timeout(2 * timeoutMs);
  return outer ? AbortSignal.any([outer, timeout]) : timeout;
}

/** Frees the connection of an answer we will not read. Not awaited: some bodies settle only when drained. */
function discardBody(response: Response): void {
  response.body?.cancel().catch(() => undefined);
}

function backoff(attemptNumber: number, random: () => number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attemptNumber - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** `Retry-After` is either seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function errorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    if ((current as { name?: unknown }).name === "TimeoutError") return "TIMEOUT";
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Query strings can carry signed CDN credentials; errors show the path only. */
function redact(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
