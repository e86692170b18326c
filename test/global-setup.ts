import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The end-to-end tests run the built CLI: build it (tsc, then the bundle) before any test starts. */
export default function setup(): void {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const run = (script: string, ...args: string[]) => execFileSync(process.execPath, [fileURLToPath(new URL(`../${script}`, import.meta.url)), ...args], { cwd: root, stdio: "inherit" });
  run("node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json");
  run("scripts/bundle-cli.mjs");
}
