import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { MockHub } from "./mock-hub.js";

export interface RunningHub {
  endpoint: string;
  close: () => Promise<void>;
  /** Connections accepted, the most open at once, and body bytes sent. */
  stats: { connections: number; maxOpen: number; bytesSent: number };
}

export interface HttpHubOptions {
  latencyMs?: number;
  /** The listen backlog: a short one drops bursts of new connections, as a busy mirror does. */
  backlog?: number;
}

/** Serves a MockHub over real HTTP on 127.0.0.1, for the built CLI and the benchmarks. */
export async function startHttpHub(hub: MockHub, options: HttpHubOptions = {}): Promise<RunningHub> {
  const stats = { connections: 0, maxOpen: 0, bytesSent: 0 };
  let open = 0;
  const server: Server = createServer(async (incoming, outgoing) => {
    try {
      if (options.latencyMs) await new Promise((resolve) => setTimeout(resolve, options.latencyMs));
      const response = await hub.handle(await toRequest(incoming));
      outgoing.writeHead(response.status, Object.fromEntries(response.headers));
      const body = Buffer.from(await response.arrayBuffer());
      stats.bytesSent += body.byteLength;
      outgoing.end(body);
    } catch (error) {
      outgoing.writeHead(500);
      outgoing.end(String(error));
    }
  });
  server.on("connection", (socket) => {
    stats.connections += 1;
    open += 1;
    stats.maxOpen = Math.max(stats.maxOpen, open);
    socket.on("close", () => (open -= 1));
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1", ...(options.backlog !== undefined && { backlog: options.backlog }) }, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function toRequest(incoming: IncomingMessage): Promise<Request> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (typeof value === "string") headers.set(name, value);
    else if (Array.isArray(value)) headers.set(name, value.join(", "));
  }
  const method = incoming.method ?? "GET";
  return new Request(`http://${incoming.headers.host}${incoming.url}`, {
    method,
    headers,
    ...(method !== "GET" && method !== "HEAD" && chunks.length > 0 && { body: Buffer.concat(chunks) }),
  });
}
