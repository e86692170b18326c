import type { AddressInfo } from "node:net";
import { parseCommand } from "../../src/cli/main.js";
import { createPlannerServer, type PlannerServerOptions } from "../../src/server/planner-server.js";

export interface RunningPlanner {
  /** http://127.0.0.1:<port>, no trailing slash. */
  base: string;
  close: () => Promise<void>;
}

/** `vramplan serve` in-process on a free loopback port, reading queries through the CLI's definitions. */
export async function startPlanner(options: Omit<PlannerServerOptions, "parseCommand">): Promise<RunningPlanner> {
  const server = createPlannerServer({ ...options, parseCommand });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
