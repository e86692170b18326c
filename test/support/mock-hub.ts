/**
 * A Hub that answers like huggingface.co for the routes vramplan and @huggingface/hub use, from
 * fixtures/hub and from models a test adds. It is a plain fetch-style handler, served in-process
 * through msw (msw-hub.ts) and over real HTTP on 127.0.0.1 (http-hub.ts).
 *
 * Routes: model info (revision → sha, file list), paths-info, resolve (GET with Range, HEAD), raw
 * (HEAD). Safetensors files are virtual: the header is built from the manifest and the data region
 * reads as zeros, and a request for more than the header region is refused, so a test fails if
 * anything tries to download weights.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { GGML_TYPES, ggmlTensorBytes } from "../../src/gguf/ggml-types.js";
import { buildGguf, type GgufValue } from "./gguf-writer.js";
import { VirtualFile } from "./virtual-file.js";

export { VirtualFile };
import { fileURLToPath } from "node:url";

export interface MockTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: number;
}

export interface MockModel {
  /** config.json body: an object, or raw text to serve malformed files. */
  config?: object | string;
  /** Safetensors files by path; a single `model.safetensors` or shards with an index. */
  files?: { path: string; tensors: MockTensor[] }[];
  gated?: "manual" | "auto";
  /** Extra repo files served as given (e.g. a hand-made index). */
  extra?: Record<string, string | Uint8Array | VirtualFile>;
}

export interface MockHubOptions {
  /** Load every model under this fixtures root (default: the project's fixtures/hub). */
  fixturesRoot?: string | false;
  models?: Record<string, MockModel>;
  /** Tokens that may read gated repos. */
  acceptedTokens?: string[] | undefined;
  /** Serve safetensors bodies from this other origin through a 302, as the Hub's CDN does. */
  cdnOrigin?: string | undefined;
  /** Called first for every request; a Response it returns is served instead. */
  fault?: ((request: Request, url: URL) => Response | Promise<Response | undefined> | undefined) | undefined;
}

export interface LoggedRequest {
  method: string;
  url: string;
  authorization: string | null;
  range: string | null;
}

const FIXTURES_ROOT = fileURLToPath(new URL("../../fixtures/hub/", import.meta.url));

export function commitFor(id: string): string {
  return createHash("sha1").update(`commit:${id}`).digest("hex");
}

function oidFor(content: string | Uint8Array): string {
  return createHash("sha1").update(content).digest("hex");
}

export function loadFixtureModels(root: string = FIXTURES_ROOT): Record<string, MockModel> {
  const models: Record<string, MockModel> = {};
  for (const org of readdirSync(root)) {
    if (!statSync(join(root, org)).isDirectory()) continue;
    for (const name of readdirSync(join(root, org))) {
      const dir = join(root, org, name);
      if (existsSync(join(dir, "gguf.json"))) {
        models[`${org}/${name}`] = ggufFixtureModel(JSON.parse(readFileSync(join(dir, "gguf.json"), "utf8")));
        continue;
      }
      const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as object;
      let manifest: { files: { path: string; tensors: [string, string, number[], number][] }[] } = { files: [] };
      try {
        manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
      } catch {
        // A config-only built-in model: the mock repo has no safetensors files.
      }
      // Other files (tokenizer files) are served as they are; `x.gz` is served inflated as `x`.
      const extra: Record<string, Uint8Array> = {};
      for (const file of readdirSync(dir)) {
        if (file === "config.json" || file === "manifest.json") continue;
        const bytes = readFileSync(join(dir, file));
        if (file.endsWith(".gz")) extra[file.slice(0, -".gz".length)] = new Uint8Array(gunzipSync(bytes));
        else extra[file] = new Uint8Array(bytes);
      }
      models[`${org}/${name}`] = {
        ...(Object.keys(extra).length > 0 && { extra }),
        config,
        files: manifest.files.map((file) => ({
          path: file.path,
          tensors: file.tensors.map(([tensorName, dtype, shape, bytes]) => ({ name: tensorName, dtype, shape, bytes })),
        })),
      };
    }
  }
  return models;
}

/** A safetensors file as bytes-on-demand: header (padded to 8 bytes like safetensors does) + data. */
export class VirtualSafetensors extends VirtualFile {
  constructor(tensors: MockTensor[], options: { headerOverride?: Uint8Array } = {}) {
    let offset = 0;
    const entries: Record<string, unknown> = { __metadata__: { format: "pt" } };
    for (const tensor of tensors) {
      entries[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + tensor.bytes] };
      offset += tensor.bytes;
    }
    let json = JSON.stringify(entries);
    json += " ".repeat((8 - (json.length % 8)) % 8);
    const body = new TextEncoder().encode(json);
    const header = new Uint8Array(8 + body.length);
    new DataView(header.buffer).setBigUint64(0, BigInt(body.length), true);
    header.set(body, 8);
    super(options.headerOverride ?? header, 8 + body.length + offset);
  }
}

/** The biggest span the mock will serve from a safetensors file: headers, never weights. */
const MAX_SAFETENSORS_READ = 50_000_000;

export class MockHub {
  readonly models: Map<string, MockModel>;
  readonly log: LoggedRequest[] = [];
  constructor(readonly options: MockHubOptions = {}) {
    const fixtures = options.fixturesRoot === false ? {} : loadFixtureModels(options.fixturesRoot || undefined);
    this.models = new Map(Object.entries({ ...fixtures, ...options.models }));
  }

  setModel(id: string, model: MockModel): void {
    this.models.set(id, model);
  }

  requestsTo(pathPart: string): LoggedRequest[] {
    return this.log.filter((entry) => entry.url.includes(pathPart));
  }

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    this.log.push({ method: request.method, url: request.url, authorization: request.headers.get("authorization"), range: request.headers.get("range") });
    const injected = await this.options.fault?.(request, url);
    if (injected) return injected;
    return this.serve(request);
  }

  /** Answers without logging or faults; a fault handler calls it to alter a real answer. */
  async serve(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const path = decodeURIComponent(url.pathname);
    let match = /^\/api\/models\/(.+)\/revision\/([^/]+)$/.exec(path);
    if (match && request.method === "GET") return this.modelInfo(match[1] as string, match[2] as string);
    match = /^\/api\/models\/(.+)\/paths-info\/([^/]+)$/.exec(path);
    if (match && request.method === "POST") return this.pathsInfo(match[1] as string, match[2] as string, request);
    match = /^\/(.+?)\/(resolve|raw)\/([^/]+)\/(.+)$/.exec(path);
    if (match) return this.file(match[1] as string, match[3] as string, match[4] as string, request, url);
    match = /^\/cdn\/(.+?)\/([0-9a-f]{40})\/(.+)$/.exec(path);
    if (match) return this.cdnFile(match[1] as string, match[3] as string, request);
    return json({ error: "Not Found" }, 404);
  }

  private repo(id: string, revision: string): { model: MockModel; commit: string } | Response {
    const model = this.models.get(id);
    if (!model) return json({ error: "Repository not found" }, 404, { "X-Error-Code": "RepoNotFound" });
    const commit = commitFor(id);
    if (revision !== "main" && revision !== commit) {
      return json({ error: `Invalid rev id: ${revision}` }, 404, { "X-Error-Code": "RevisionNotFound" });
    }
    return { model, commit };
  }

  private fileNames(model: MockModel): string[] {
    const names = ["config.json"].filter(() => model.config !== undefined);
    const files = model.files ?? [];
    if (files.length === 1 && files[0]?.path === "model.safetensors") names.push("model.safetensors");
    else if (files.length > 0) names.push("model.safetensors.index.json", ...files.map((file) => file.path));
    names.push(...Object.keys(model.extra ?? {}));
    return names;
  }

  private fileContent(model: MockModel, path: string): string | Uint8Array | VirtualFile | undefined {
    if (model.extra?.[path] !== undefined) return model.extra[path];
    if (path === "config.json" && model.config !== undefined) return typeof model.config === "string" ? model.config : JSON.stringify(model.config, null, 2);
    const files = model.files ?? [];
    if (path === "model.safetensors.index.json" && files.length > 0 && files[0]?.path !== "model.safetensors") {
      const weightMap: Record<string, string> = {};
      let total = 0;
      for (const file of files) {
        for (const tensor of file.tensors) {
          weightMap[tensor.name] = file.path;
          total += tensor.bytes;
        }
      }
      return JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2);
    }
    const file = files.find((candidate) => candidate.path === path);
    return file ? new VirtualSafetensors(file.tensors) : undefined;
  }

  private modelInfo(id: string, revision: string): Response {
    const found = this.repo(id, revision);
    if (found instanceof Response) return found;
    return json({
      _id: oidFor(id).slice(0, 24),
      id,
      sha: found.commit,
      private: false,
      gated: found.model.gated ?? false,
      downloads: 0,
      likes: 0,
      lastModified: "2025-01-01T00:00:00.000Z",
      pipeline_tag: "text-generation",
      siblings: this.fileNames(found.model).map((rfilename) => ({ rfilename })),
    });
  }

  private async pathsInfo(id: string, revision: string, request: Request): Promise<Response> {
    const found = this.repo(id, revision);
    if (found instanceof Response) return found;
    const body = (await request.json()) as { paths?: string[] };
    const entries = (body.paths ?? []).flatMap((path) => {
      const content = this.fileContent(found.model, path);
      if (content === undefined) return [];
      const size = content instanceof VirtualFile ? content.size : typeof content === "string" ? Buffer.byteLength(content) : content.byteLength;
      const oid = content instanceof VirtualFile ? oidFor(content.header) : oidFor(content);
      return [{ type: "file", path, oid, size, lastCommit: { id: found.commit, title: "fixture", date: "2025-01-01T00:00:00.000Z" } }];
    });
    return json(entries);
  }

  private authorize(model: MockModel, request: Request): Response | undefined {
    if (!model.gated) return undefined;
    const header = request.headers.get("authorization");
    if (!header) return json({ error: "Access to model is restricted. You must have access to it and be authenticated to access it. Please log in." }, 401, { "X-Error-Code": "GatedRepo" });
    const token = header.replace(/^Bearer /, "");
    if (!this.options.acceptedTokens?.includes(token)) return json({ error: "Access to model is restricted and you are not in the authorized list." }, 403, { "X-Error-Code": "GatedRepo" });
    return undefined;
  }

  private file(id: string, revision: string, path: string, request: Request, url: URL): Response {
    const found = this.repo(id, revision);
    if (found instanceof Response) return found;
    const denied = this.authorize(found.model, request);
    if (denied) return denied;
    const content = this.fileContent(found.model, path);
    if (content === undefined) return json({ error: "Entry not found" }, 404, { "X-Error-Code": "EntryNotFound" });
    if (content instanceof VirtualFile && this.options.cdnOrigin && request.method !== "HEAD") {
      return new Response(null, { status: 302, headers: { Location: `${this.options.cdnOrigin}/cdn/${id}/${found.commit}/${path}`, "X-Repo-Commit": found.commit } });
    }
    return serveContent(content, request, { "X-Repo-Commit": found.commit, ETag: `"${oidFor(content instanceof VirtualFile ? content.header : content)}"` }, url);
  }

  private cdnFile(id: string, path: string, request: Request): Response {
    const model = this.models.get(id);
    const content = model && this.fileContent(model, path);
    if (!content) return new Response("no such object", { status: 404 });
    return serveContent(content, request, { ETag: `"${oidFor(content instanceof VirtualFile ? content.header : content)}"` }, new URL(request.url));
  }
}

function serveContent(content: string | Uint8Array | VirtualFile, request: Request, headers: Record<string, string>, _url: URL): Response {
  const size = content instanceof VirtualFile ? content.size : typeof content === "string" ? Buffer.byteLength(content) : content.byteLength;
  const common = { ...headers, "Accept-Ranges": "bytes", "Content-Type": content instanceof VirtualFile ? "application/octet-stream" : "application/json" };
  if (request.method === "HEAD") return new Response(null, { status: 200, headers: { ...common, "Content-Length": String(size) } });
  const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.get("range") ?? "");
  const start = range ? Number(range[1]) : 0;
  const end = range && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
  if (start >= size) return new Response(null, { status: 416, headers: { "Content-Range": `bytes */${size}` } });
  if (content instanceof VirtualFile && end - start + 1 > MAX_SAFETENSORS_READ) {
    return new Response("mock hub: refusing to serve weights", { status: 500 });
  }
  const bytes =
    content instanceof VirtualFile
      ? content.read(start, end)
      : (typeof content === "string" ? new TextEncoder().encode(content) : content).subarray(start, end + 1);
  return new Response(bytes, {
    status: range ? 206 : 200,
    headers: { ...common, "Content-Length": String(bytes.byteLength), ...(range && { "Content-Range": `bytes ${start}-${end}/${size}` }) },
  });
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

interface GgufFixture {
  sets: { files: string[]; headers: { path: string; metadata: Record<string, unknown>; tensors: { name: string; type: number; shape: number[] }[] }[] }[];
}

/** A built-in GGUF repo (gguf.json, vramplan's cache format) served as real GGUF files. */
function ggufFixtureModel(fixture: GgufFixture): MockModel {
  const extra: Record<string, VirtualFile> = {};
  for (const set of fixture.sets) {
    for (const header of set.headers) {
      const metadata: Record<string, GgufValue> = {};
      for (const [key, value] of Object.entries(header.metadata)) {
        if (typeof value === "string") metadata[key] = { type: "string", value };
        else if (typeof value === "boolean") metadata[key] = { type: "bool", value };
        else if (typeof value === "number") metadata[key] = Number.isInteger(value) ? { type: "u32", value } : { type: "f32", value };
      }
      const tensors = header.tensors.map((tensor) => {
        const type = GGML_TYPES.get(tensor.type);
        if (!type) throw new Error(`fixture tensor ${tensor.name}: unknown ggml type ${tensor.type}`);
        return { ...tensor, bytes: ggmlTensorBytes(type, tensor.shape) };
      });
      extra[header.path] = buildGguf(metadata, tensors);
    }
  }
  return { extra };
}
