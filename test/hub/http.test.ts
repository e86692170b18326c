import { describe, expect, it } from "vitest";
import { createHubFetch, MAX_RETRY_AFTER_MS, parseRetryAfter, UnreachableError } from "../../src/hub/http.js";
import { NetworkError } from "../../src/errors.js";

interface Call {
  url: string;
  authorization: string | null;
  at: number;
}

/** A scripted transport: answers in order, records what it was sent and when (in fake time). */
function scripted(answers: (Response | Error)[], clock: { now: number }) {
  const calls: Call[] = [];
  const transport = (async (input: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(input), authorization: new Headers(init?.headers).get("authorization"), at: clock.now });
    const next = answers.shift();
    if (!next) throw new Error("transport: no answer scripted");
    if (next instanceof Error) throw next;
    return next;
  }) as typeof fetch;
  return { calls, transport };
}

function fakeTime() {
  const clock = { now: 0, sleeps: [] as number[] };
  const sleep = async (ms: number) => {
    clock.sleeps.push(ms);
    clock.now += ms;
  };
  return { clock, sleep };
}

const ENDPOINT = "https://hub.example";

describe("createHubFetch", () => {
  it("keeps at most maxInFlight requests waiting for an answer; the others queue, and all are answered", async () => {
    let open = 0;
    let most = 0;
    const transport = (async () => {
      open += 1;
      most = Math.max(most, open);
      await new Promise((resolve) => setTimeout(resolve, 5));
      open -= 1;
      return new Response("ok");
    }) as typeof fetch;
    const hubFetch = createHubFetch({ endpoint: ENDPOINT, transport, maxInFlight: 3 });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, index) => hubFetch(`${ENDPOINT}/f${index}`).then((response) => response.text())));
    expect(answers).toEqual(Array.from({ length: 20 }, () => "ok"));
    expect(most).toBe(3);
  });

  it("frees a request's place when it fails, so a burst of failures cannot starve the queue", async () => {
    let calls = 0;
    const transport = (async () => {
      calls += 1;
      if (calls <= 2) throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
      return new Response("ok");
    }) as typeof fetch;
    const { sleep } = fakeTime();
    const hubFetch = createHubFetch({ endpoint: ENDPOINT, transport, sleep, maxInFlight: 1 });
    expect(await (await hubFetch(`${ENDPOINT}/a`)).text()).toBe("ok");
    expect(await (await hubFetch(`${ENDPOINT}/b`)).text()).toBe("ok");
  });

  it("retries 5xx with growing backoff, then gives up with a one-line network error", async () => {
    const { clock, sleep } = fakeTime();
    const { calls, transport } = scripted([503, 502, 500, 504].map((status) => new Response("", { status })), clock);
    const hubFetch = createHubFetch({ endpoint: ENDPOINT, transport, sleep, random: () => 1, maxAttempts: 4 });
    await expect(hubFetch(`${ENDPOINT}/api/x`)).rejects.toThrow(/answered HTTP 504 to 4 attempts/);
    expect(calls).toHaveLength(4);
    // random() = 1 takes the top of each jitter window: 300, 600, 1200 ms.
    expect(clock.sleeps).toEqual([300, 600, 1200]);
  });

  it("honours Retry-After on 429", async () => {
    const { clock, sleep } = fakeTime();
    const { calls, transport } = scripted([new Response("", { status: 429, headers: { "Retry-After": "7" } }), new Response("ok")], clock);
    const hubFetch = createHubFetch({ endpoint: ENDPOINT, transport, sleep, random: () => 0, now: () => clock.now });
    expect(await (await hubFetch(`${ENDPOINT}/a`)).text()).toBe("ok");
    expect(calls).toHaveLength(2);
    expect(clock.sleeps.reduce((sum, ms) => sum + ms, 0)).toBeGreaterThanOrEqual(7000);
  });

  it("refuses to wait out an absurd Retry-After", async () => {
    const { clock, sleep } = fakeTime();
    const { transport } = scripted([new Response("", { status: 429, headers: { "Retry-After": String(MAX_RETRY_AFTER_MS / 1000 + 1) } })], clock);
    const hubFetch = createHubFetch({ endpoint: ENDPOINT, transport, sleep });
    await expect(hubFetch(`${ENDPOINT}/a`)).rejects.toThrow(/asked to wait 61 s/);
  });

  it("does not retry when the Hub cannot be reached at all, so the cache fallback is immediate", async () => {
    const { clock, sleep } = fakeTime();
    const refused = Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });
    const { calls, transport } = scripted([refused], clock);
    const hubFetch = createHubFetch({ endpoint: ENDPOINT, transport, sleep });
    const error = await hubFetch(`${ENDPOINT}/a`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnreachableError);
    expect(calls).toHaveLength(1);
  });

  it("a Retry-After of 59 s is waited once, announced through onRetry, and the total wait per request is bounded", async () => {
    const { clock, sleep } = fakeTime();
    const busy = () => new Response("", { status: 429, headers: { "Retry-After": "59" } });
    const { calls, transport } = scripted([busy(), busy(), busy(), busy()], clock);
    const events: number[] = [];
    const hubFetch = createHubFetch({ endpoint: ENDPOINT, transport, sleep, now: () => clock.now, onRetry: (event) => events.push(event.delayMs) });
    const error = await hubFetch(`${ENDPOINT}/x`).catch((caught: unknown) => caught);
    // 59 s once; a second 59 s would pass the 60 s bound, so the Hub counts as unavailable.
    expect(error).toBeInstanceOf(UnreachableError);
    expect((error as UnreachableError).reason).toMatch(/kept asking to wait \(HTTP 429\)/);
    expect(events).toEqual([59_000]);
    expect(calls).toHaveLength(2);
    expect(clock.sleeps.reduce((sum, ms) => sum + ms, 0)).toBeLessThanOrEqual(60_000);
  });

  it("a request that times out is not retried: the Hub is unavailable, and the loader falls back", async () => {
    const { clock, sleep } = fakeTime();
    const timeout = Object.assign(new Error("The operation was aborted due to timeout"), { name: "TimeoutError" });
    const { calls, transport } = scripted([timeout, new Response("never reached")], clock);
    const hubFetch = createHubFetch({ endpoint: ENDPOINT, transport, sleep, timeoutMs: 2000 });
    const error = await hubFetch(`${ENDPOINT}/x`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnreachableError);
    expect((error as UnreachableError).refused).toBe(false);
    expect((error as Error).message).toMatch(/did not answer within 2 s \(HF_HUB_DOWNLOAD_TIMEOUT\)/);
    expect(calls).toHaveLength(1);
  });

  it("retries a reset connection", async () => {
    const { clock, sleep } = fakeTime();
    const reset = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } });
    const { calls, transport } = scripted([reset, new Response("ok")], clock);
    const hubFetch = createHubFetch({ endpoint: ENDPOINT, transport, sleep });
    expect(await (await hubFetch(`${ENDPOINT}/a`)).text()).toBe("ok");
    expect(calls).toHaveLength(2);
  });

  it("sends the token to the endpoint only, and drops it on a redirect to another origin", async () => {
    const { clock, sleep } = fakeTime();
    const { calls, transport } = scripted(
      [
        new Response(null, { status: 302, headers: { Location: "https://cdn.example/blob?X-Amz-Signature=secret" } }),
        new Response("data"),
      ],
      clock,
    );
    const hubFetch = createHubFetch({ endpoint: ENDPOINT, token: "hf_abc", transport, sleep });
    // Even a caller-supplied Authorization header (the hub client adds one) is not forwarded off-origin.
    const response = await hubFetch(`${ENDPOINT}/org/m/resolve/main/model.safetensors`, { headers: { Authorization: "Bearer hf_abc" } });
    expect(await response.text()).toBe("data");
    expect(calls.map((call) => [new URL(call.url).origin, call.authorization])).toEqual([
      [ENDPOINT, "Bearer hf_abc"],
      ["https://cdn.example", null],
    ]);
  });

  it("a Retry-After from one request holds back the next request too (real time, 1 s)", async () => {
    const sent: { path: string; at: number }[] = [];
    let announce429: () => void = () => undefined;
    const answered429 = new Promise<void>((resolve) => (announce429 = resolve));
    const transport = (async (input: string | URL | Request) => {
      const path = new URL(String(input)).pathname;
      sent.push({ path, at: Date.now() });
      if (sent.length === 1) {
        setTimeout(announce429, 0);
        return new Response("", { status: 429, headers: { "Retry-After": "1" } });
      }
      return new Response("ok");
    }) as typeof fetch;
    const hubFetch = createHubFetch({ endpoint: ENDPOINT, transport, random: () => 0 });
    const first = hubFetch(`${ENDPOINT}/first`);
    await answered429;
    const second = hubFetch(`${ENDPOINT}/second`);
    await Promise.all([first, second]);
    const at429 = sent[0]?.at ?? 0;
    const secondSent = sent.find((entry) => entry.path === "/second")?.at ?? 0;
    // The second request was made after the 429 and still waited for the pause the Hub asked for.
    expect(secondSent - at429).toBeGreaterThanOrEqual(950);
  });

  it("errors never carry the token or a signed query string", async () => {
    const { clock, sleep } = fakeTime();
    const { transport } = scripted([500, 500].map((status) => new Response("", { status })), clock);
    const hubFetch = createHubFetch({ endpoint: ENDPOINT, token: "hf_abc", transport, sleep, maxAttempts: 2 });
    const error = (await hubFetch(`${ENDPOINT}/a?sig=xyz`).catch((caught: unknown) => caught)) as NetworkError;
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).not.toContain("hf_abc");
    expect(error.message).not.toContain("sig=xyz");
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("12")).toBe(12_000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    expect(parseRetryAfter(inTenSeconds)).toBeGreaterThan(8_000);
  });
});
