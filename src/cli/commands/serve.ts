import type { IncomingMessage, ServerResponse } from "node:http";
import type { Argv } from "yargs";
import { UsageError } from "../../errors.js";
import type { CliCommand, CliIo } from "../output.js";
import { parseTokenCount } from "../parse-tokens.js";
import { cliHubSettings } from "../settings.js";
import { OFFLINE_OPTION } from "../common-options.js";

interface ServeArgs {
  port: string;
  host: string;
  offline: boolean;
  debug: boolean;
}

export const serveCommand = {
  name: "serve",
  command: "serve",
  describe: "The planner as an HTTP API (GET /v1/plan, /v1/train, /v1/dtype, /v1/gpus; POST /v1/batch)",
  builder: (yargs: Argv) =>
    yargs
      .option("port", { type: "string", default: "8080", describe: "TCP port to listen on (0: any free one)" })
      .option("host", { type: "string", default: "127.0.0.1", describe: "Address to listen on; 0.0.0.0 serves other machines too" })
      .option("offline", OFFLINE_OPTION)
      .example("$0 serve --port 8080", "then: curl 'http://127.0.0.1:8080/v1/plan?model=Qwen/Qwen2.5-7B&context=32k&gpu=H100'"),
  run: async (args: ServeArgs, io: CliIo) => {
    const port = parseTokenCount(args.port, "--port", { allowZero: true, unit: "port" }) as number;
    if (port > 65535) throw new UsageError(`--port ${port} is not a TCP port: use 1 to 65535, or 0 for any free one`);
    if (!io.parseCommand) throw new Error("serve: runCli provides parseCommand");
    const { createPlannerServer } = await import("../../server/planner-server.js");
    const server = createPlannerServer({ hub: cliHubSettings(io, args), parseCommand: io.parseCommand });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) => reject(new UsageError(`cannot listen on ${args.host}:${port} (${error.code ?? error.message}): choose another --port or --host`)));
      server.listen(port, args.host, resolve);
    });
    const address = server.address();
    const actual = typeof address === "object" && address ? address.port : port;
    io.stderr(`vramplan: serving the planner on http://${args.host}:${actual} (Ctrl-C stops it)\n`);
    // Until SIGINT or SIGTERM: stop taking requests, let those running finish, then return.
    const running = new Set<ServerResponse>();
    server.on("request", (_request: IncomingMessage, response: ServerResponse) => {
      running.add(response);
      response.once("close", () => running.delete(response));
    });
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        // A running answer closes its connection when done, so no keep-alive holds the exit.
        for (const response of running) if (!response.headersSent) response.shouldKeepAlive = false;
        server.close(() => resolve());
        server.closeIdleConnections();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    io.stderr("vramplan: stopped\n");
  },
} satisfies CliCommand<ServeArgs>;
