import { HubHttpError, NetworkError } from "../errors.js";
import { checkToken } from "./settings.js";

/**
 * The one door to the network. Every Hub request goes through `createHubFetch`, which
 * - adds the token only to requests for the configured endpoint's origin, re-checked on every
 *   redirect hop (redirects are followed here, never by the transport);
 * - bounds every request in time, and how many are in flight at once: a 191-shard checkpoint or
 *   a batch is read over a few keep-alive connections, not one connection per file (a burst of
 *   hundreds overflows a mirror's listen backlog, and each dropped connection costs a timeout);
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
  /** Requests waiting for an answer at once, and connections per origin. */
  maxInFlight?: number;
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
/**
 * huggingface.js reads safetensors headers 20 at a time (PARALLEL_DOWNLOADS) and huggingface_hub
 * downloads with 8 workers; range reads of a few kilobytes are latency-bound, so 16: a 191-shard
 * checkpoint is 12 waves of round trips, over at most 16 connections.
 */
export const DEFAULT_MAX_IN_FLIGHT = 20;
const BACKOFF_BASE_MS = 300;
const BACKOFF_CAP_MS = 8_000;
/** A server asking for a longer pause than this is treated as a refusal, not waited out. */
export const MAX_RETRY_AFTER_MS = 60_000;
/** Requests found unavailable in a row, with no answer between, after which the Hub is down for the run. */
const FAILURES_BEFORE_DOWN = 3;
/** All the waiting one request may do between its attempts; past it the Hub counts as unavailable. */
export const MAX_TOTAL_WAIT_MS = 60_000;
const MAX_REDIRECTS = 5;
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
/** Failures that mean the Hub cannot be reached at all: retrying would only delay the fallback. */
const UNREACHABLE_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN"]);

/**
 * The Hub cannot serve us now: it could not be reached, did not answer within the timeout, or kept
 * failing through every retry. The loader falls back to the caches and the built-in set on it.
 */
export class UnreachableError extends NetworkError {
  override readonly name: string = "UnreachableError";
  /** A few words for the fallback note: "the Hub did not answer within 15 s". */
  readonly reason: string;
  /** No connection at all (DNS, refused), as opposed to a Hub that answered too slowly or with errors. */
  readonly refused: boolean;
  constructor(message: string, reason: string, options?: { cause?: unknown; refused?: boolean }) {
    super(message, options);
    this.reason = reason;
    this.refused = options?.refused ?? false;
  }
}

/** Transport failures that are a timeout: a hanging Hub is not retried, it is fallen back from. */
const TIMEOUT_CODES = new Set(["TIMEOUT", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT"]);

/** Whether an error (from the transport or from reading a body) is a request timing out. */
export function isTimeout(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && TIMEOUT_CODES.has(code);
}

/**
 * At most `limit` requests waiting for their answer at once. A request's time bound starts when it
 * gets its turn, so a long queue is not mistaken for a hanging Hub.
 */
class RequestSlots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next request, so `active` stays the same.
      if (next) next();
      else this.active -= 1;
    };
  }
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
  if (settings.token !== undefined) checkToken(settings.token);
  const endpointOrigin = new URL(settings.endpoint).origin;
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxAttempts = settings.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const sleep = settings.sleep ?? realSleep;
  const random = settings.random ?? Math.random;
  const gate = new RetryGate(settings.now ?? Date.now);
  const maxInFlight = settings.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const slots = new RequestSlots(maxInFlight);
  let transport: Promise<typeof fetch> | undefined;
  const getTransport = () => (transport ??= settings.transport ? Promise.resolve(settings.transport) : undiciTransport(timeoutMs, maxInFlight));

  async function attempt(url: URL, init: RequestInit, headers: Headers): Promise<Response> {
    const send = await getTransport();
    let waited = 0;
    for (let attemptNumber = 1; ; attemptNumber++) {
      await gate.wait(sleep);
      let response: Response;
      // Held until the answer's headers arrive; its body then streams on a connection undici's
      // own per-origin limit (the same figure) keeps bounded.
      const release = await slots.acquire();
      try {
        response = await send(url, { ...init, headers, redirect: "manual", signal: requestSignal(init.signal, timeoutMs) });
      } catch (error) {
        release();
        const code = errorCode(error);
        const proxyStatus = proxyRefusal(error);
        if (proxyStatus === 407) {
          // The proxy's own credentials (from HTTPS_PROXY), not the Hub's: retrying cannot help.
          throw new HubHttpError("accessDenied", `the HTTP proxy asks for credentials it did not accept (407 Proxy Authentication Required) for ${url.origin}: check the user and password in HTTPS_PROXY (or HTTP_PROXY), or ask whoever runs the proxy`, { status: 407, url: redact(url), cause: error });
        }
        if (proxyStatus !== undefined) {
          throw new UnreachableError(`the HTTP proxy refused to connect to ${url.origin} (HTTP ${proxyStatus}): check HTTPS_PROXY and NO_PROXY, or run with {offline}`, `the proxy refused ${url.origin} (HTTP ${proxyStatus})`, { cause: error, refused: true });
        }
        if (code && UNREACHABLE_CODES.has(code)) {
          throw new UnreachableError(`cannot reach ${url.origin} (${code}): check the connection, HF_ENDPOINT or HTTPS_PROXY, or run with {offline}`, `cannot reach ${url.origin}`, { cause: error, refused: true });
        }
        if (init.signal?.aborted) throw error;
        if (isTimeout(error)) {
          // A Hub that hangs will most likely hang again: one timeout, then the caches.
          const seconds = Math.round(timeoutMs / 1000);
          throw new UnreachableError(`${url.origin} did not answer within ${seconds} s (HF_HUB_DOWNLOAD_TIMEOUT): the Hub is slow or the connection unstable; try again later, or run with {offline}`, `${url.origin} did not answer within ${seconds} s`, { cause: error });
        }
        if (attemptNumber >= maxAttempts) {
          throw new UnreachableError(`request to ${redact(url)} failed ${maxAttempts} times (${code ?? describe(error)}): the Hub is slow or the connection unstable; try again later`, `requests to ${url.origin} kept failing`, { cause: error });
        }
        const delayMs = backoff(attemptNumber, random);
        settings.onRetry?.({ url: redact(url), attempt: attemptNumber, delayMs, reason: code ?? describe(error) });
        await sleep(delayMs);
        waited += delayMs;
        continue;
      }
      release();
      if (!RETRYABLE_STATUS.has(response.status)) return response;

      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
      discardBody(response);
      const status = `HTTP ${response.status}`;
      if (retryAfterMs !== undefined && retryAfterMs > MAX_RETRY_AFTER_MS) {
        throw new UnreachableError(`the Hub asked to wait ${Math.ceil(retryAfterMs / 1000)} s before retrying (${status}): try again later`, `${url.origin} asked to wait ${Math.ceil(retryAfterMs / 1000)} s (${status})`);
      }
      if (attemptNumber >= maxAttempts) {
        throw new UnreachableError(`the Hub answered ${status} to ${maxAttempts} attempts for ${redact(url)}: try again later`, `${url.origin} answered ${status} ${maxAttempts} times`);
      }
      const delayMs = Math.max(retryAfterMs ?? 0, backoff(attemptNumber, random));
      if (waited + delayMs > MAX_TOTAL_WAIT_MS) {
        throw new UnreachableError(`the Hub kept asking to wait (${status}, ${Math.round((waited + delayMs) / 1000)} s in all for ${redact(url)}): try again later`, `${url.origin} kept asking to wait (${status})`);
      }
      if (retryAfterMs !== undefined) gate.pushBack(retryAfterMs);
      settings.onRetry?.({ url: redact(url), attempt: attemptNumber, delayMs, reason: status });
      await sleep(delayMs);
      waited += delayMs;
    }
  }

  // Once the Hub is known down — refused outright, or unavailable several times running with no
  // answer between — the rest of the run (a batch of thousands) treats it as down at once instead
  // of each request paying its own timeout or retries. One slow answer does not condemn it.
  let down: UnreachableError | undefined;
  let failuresInARow = 0;

  return async function hubFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    if (down) throw down;
    try {
      const response = await follow(input, init);
      failuresInARow = 0;
      return response;
    } catch (error) {
      if (error instanceof UnreachableError) {
        failuresInARow += 1;
        if (error.refused || failuresInARow >= FAILURES_BEFORE_DOWN) down = error;
      }
      throw error;
    }
  };

  async function follow(input: string | URL | Request, init: RequestInit): Promise<Response> {
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
  }
}

async function undiciTransport(timeoutMs: number, connectionsPerOrigin: number): Promise<typeof fetch> {
  // Loaded on first use: offline runs never pay for it.
  const { EnvHttpProxyAgent, fetch: undiciFetch } = await import("undici");
  const dispatcher = new EnvHttpProxyAgent({
    connections: connectionsPerOrigin,
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

/** The status a proxy answered a tunnel (CONNECT) with, from undici's ProxyAgent error. */
function proxyRefusal(error: unknown): number | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const match = /^Proxy response \((\d{3})\) !== 200/.exec((current as { message?: unknown }).message as string);
    if (match) return Number(match[1]);
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
