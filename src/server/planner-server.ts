import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { readModelIds } from "../batch/read-ids.js";
import { runBatch, type BatchRow } from "../batch/run-batch.js";
import { isVramplanError, spellOptions, UsageError, type ErrorCode } from "../errors.js";
import type { HubSettings } from "../hub/settings.js";
import { resolveServing } from "../plan.js";
import { planRepo } from "../plan-repo.js";
import { scrubSecrets } from "../cli/secrets.js";
import { queryParameter } from "../cli/flags.js";
import { queryPlanOptions, queryTrainRequest, type ParseCommand } from "./query-options.js";
import type { PageContext } from "./web-page.js";

/**
 * The planner over HTTP: the library's calls behind a small JSON API, with the objects `--json`
 * prints. One settings object for every request (one cache, one token, one connection pool). Plans
 * are capped in number at once, request bodies and batches in size; nothing a request says names
 * a file on disk, and the token never appears in an answer.
 */
export interface PlannerServerOptions {
  hub: HubSettings;
  /** The CLI's option definitions, which read every query (query-options.ts). */
  parseCommand: ParseCommand;
  /** Plans, trains and batches running at once; more wait their turn. */
  maxConcurrent?: number;
  /** Requests waiting for a turn before the server answers 503. */
  maxQueued?: number;
  /** Bytes of a request body (POST /v1/batch). */
  maxBodyBytes?: number;
  /** Model ids in one batch. */
  maxBatch?: number;
}

const STATUS: Readonly<Record<Exclude<ErrorCode, "ok">, number>> = {
  usage: 400,
  notFound: 404,
  accessDenied: 403,
  network: 502,
  offlineNotCached: 503,
  malformed: 422,
  unsupported: 422,
  contextTooLong: 422,
  partialFailure: 200,
  chatTemplate: 422,
  internal: 500,
};


export function createPlannerServer(options: PlannerServerOptions): Server {
  const limit = options.maxConcurrent ?? 4;
  const maxQueued = options.maxQueued ?? 64;
  const maxBodyBytes = options.maxBodyBytes ?? 1_000_000;
  const maxBatch = options.maxBatch ?? 1000;
  let running = 0;
  const waiting: (() => void)[] = [];
  const secrets = options.hub.token ? [options.hub.token] : [];
  const scrub = (text: string) => scrubSecrets(text, secrets);

  async function turn<T>(work: () => Promise<T>): Promise<T> {
    if (running >= limit) {
      if (waiting.length >= maxQueued) throw new BusyError();
      await new Promise<void>((resolve) => waiting.push(resolve));
    } else running += 1;
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  }

  const send = (response: ServerResponse, status: number, body: unknown) => {
    const text = scrub(JSON.stringify(body));
    response.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
    response.end(`${text}\n`);
  };

  const fail = (response: ServerResponse, error: unknown) => {
    if (error instanceof BusyError) return send(response, 503, { error: { code: "busy", message: "too many plans waiting: try again shortly" } });
    if (isVramplanError(error)) {
      // Parse errors name the CLI's flags (--context); the query names them without the dashes.
      const message = spellOptions(error.template, queryParameter).replace(/(^|[\s(`])--([a-z][a-z-]*)/g, "$1$2");
      const status = statusOf(error);
      return send(response, status, { error: { code: error.code, message } });
    }
    send(response, 500, { error: { code: "internal", message: error instanceof Error ? error.message : String(error) } });
  };

  return createServer((request, response) => {
    handle(request, response).catch((error: unknown) => (response.headersSent ? response.destroy() : fail(response, error)));
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://planner.local");
    const route = `${request.method ?? "GET"} ${url.pathname}`;
    const query = Object.fromEntries(url.searchParams);
    switch (route) {
      case "GET /":
      case "GET /train": {
        const { planPage, trainPage } = await import("./web-page.js");
        const answer = await (url.pathname === "/" ? planPage : trainPage)(url.searchParams, await pageContext());
        response.writeHead(answer.status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...PAGE_HEADERS });
        return void response.end(answer.body);
      }
      case "GET /page.css":
      case "GET /page.js": {
        const { PAGE_CSS, PAGE_JS } = await import("./web-assets.js");
        const css = url.pathname === "/page.css";
        response.writeHead(200, { "content-type": css ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8", "cache-control": "max-age=300", ...PAGE_HEADERS });
        return void response.end(css ? PAGE_CSS : PAGE_JS);
      }
      case "GET /healthz":
        return send(response, 200, { status: "ok" });
      case "GET /v1/gpus": {
        const { loadCatalog } = await import("../serve/gpu-catalog.js");
        const { deviceMemory } = await import("../serve/gpu-memory.js");
        const catalog = await loadCatalog();
        // Each size a SKU is sold in, with the total an engine sees on it (gpu-memory.ts).
        const gpus = catalog.flatMap((gpu) =>
          gpu.memory.map((memoryGiB) => {
            const device = deviceMemory({ name: gpu.name, vendor: gpu.vendor, memoryGiB, bytes: memoryGiB * 2 ** 30 });
            return { name: gpu.name, vendor: gpu.vendor, memoryGiB, engineSeesBytes: device.bytes, basis: device.basis };
          }),
        );
        return send(response, 200, { gpus });
      }
      case "GET /v1/dtype": {
        const [{ describeValue, DEFAULT_VALUE_FORMATS }, { FORMATS }, { formatProperties }] = await Promise.all([
          import("../dtype/describe-value.js"),
          import("../dtype/formats.js"),
          import("../dtype/properties.js"),
        ]);
        if (query["value"] === undefined) return send(response, 200, { schema: "vramplan.dtype-table/1", formats: FORMATS.map(formatProperties) });
        const formats = query["as"] ? query["as"].split(",").map((name) => name.trim()).filter(Boolean) : DEFAULT_VALUE_FORMATS;
        return send(response, 200, describeValue(query["value"], formats));
      }
      case "GET /v1/plan": {
        const model = required(query, "model");
        const planOptions = await queryPlanOptions(options.parseCommand, model, query, MODEL_PARAMETER);
        const result = await turn(() => planRepo(model, { ...planOptions, hub: options.hub }));
        return send(response, 200, result);
      }
      case "GET /v1/train": {
        const model = required(query, "model");
        const { planTrain } = await import("../train.js");
        const trainRequest = await queryTrainRequest(options.parseCommand, model, query, MODEL_PARAMETER);
        return send(response, 200, await turn(() => planTrain(model, trainRequest, options.hub)));
      }
      case "POST /v1/batch":
        return batch(request, response, query);
      default:
        return send(response, 404, { error: { code: "notFound", message: `no such endpoint: ${route}; see GET / (the web page), /train, /healthz, /v1/plan, /v1/train, /v1/dtype, /v1/gpus, POST /v1/batch` } });
    }
  }

  /** What the web page plans with: the API's own calls, queue and error statuses. */
  async function pageContext(): Promise<PageContext> {
    const { loadCatalog } = await import("../serve/gpu-catalog.js");
    const catalog = await loadCatalog();
    return {
      gpus: catalog.flatMap((gpu) => gpu.memory.map((memoryGiB) => ({ name: gpu.name, vendor: gpu.vendor, memoryGiB }))),
      plan: async (model, query) => {
        const planOptions = await queryPlanOptions(options.parseCommand, model, query, new Set());
        // The page always answers "does it fit": with no GPU chosen, which common GPUs fit.
        return turn(() => planRepo(model, { ...planOptions, servingByDefault: true, hub: options.hub }));
      },
      train: async (model, query) => {
        const { planTrain } = await import("../train.js");
        const trainRequest = await queryTrainRequest(options.parseCommand, model, query, new Set());
        return turn(() => planTrain(model, trainRequest, options.hub));
      },
      statusOf,
      scrub,
    };
  }

  /** Ids in the body (one per line, or a JSON array), plan options in the query; rows stream back as JSON Lines, in order. */
  async function batch(request: IncomingMessage, response: ServerResponse, query: Record<string, string>): Promise<void> {
    const body = await readBody(request, maxBodyBytes);
    let text = body;
    if (body.trimStart().startsWith("[")) {
      let ids: unknown;
      try {
        ids = JSON.parse(body);
      } catch {
        throw new UsageError("the body is not valid JSON: send a JSON array of model ids, or one id per line");
      }
      if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string")) throw new UsageError("the body must be a JSON array of model ids (strings)");
      text = ids.join("\n");
    }
    const entries = readModelIds(text, query["revision"]);
    if (entries.length === 0) throw new UsageError("the body names no model: one org/name per line");
    if (entries.length > maxBatch) throw new UsageError(`the body names ${entries.length} models, more than the ${maxBatch} one batch may`);
    // The options are plan's; its model operand is a stand-in here, the ids come from the body.
    const planOptions = await queryPlanOptions(options.parseCommand, "batch/placeholder", query, new Set());
    const serving = planOptions.serving ? await resolveServing(planOptions.serving) : undefined;
    await turn(async () => {
      response.writeHead(200, { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store" });
      const line = (row: BatchRow) =>
        scrub(JSON.stringify(row.error ? { model: row.input, status: "error", error: row.error } : { model: row.input, status: "ok", kind: row.kind, plan: row.plan ?? row.gguf ?? row.pipeline }));
      await runBatch(entries, { plan: planOptions, serving, hub: options.hub, concurrency: 4, onRow: (row) => response.write(`${line(row)}\n`) });
      response.end();
    });
  }
}

class BusyError extends Error {
  constructor() {
    super("too many plans waiting: try again shortly");
  }
}

/** The HTTP status of a failed plan: the class of its error, 504 when the Hub did not answer in time. */
function statusOf(error: unknown): number {
  if (error instanceof BusyError) return 503;
  if (!isVramplanError(error)) return 500;
  if (error.code === "network" && /did not answer|timed out/.test(error.message)) return 504;
  return STATUS[error.code as Exclude<ErrorCode, "ok">] ?? 500;
}

/** The page runs no inline code and loads nothing from elsewhere; it is never framed. */
const PAGE_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

const MODEL_PARAMETER = new Set(["model"]);

function required(query: Record<string, string>, name: string): string {
  const value = query[name];
  if (!value) throw new UsageError(`name the model: ?${name}=org/name`);
  return value;
}

async function readBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    total += (chunk as Buffer).byteLength;
    if (total > maxBytes) throw new UsageError(`the body is larger than ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
