import { runCli } from "../../src/cli/main.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output and the given environment only. */
export async function runCliCaptured(argv: string[], env: Record<string, string | undefined>, options: { stdin?: string; isTTY?: boolean } = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    env,
    ...(options.stdin !== undefined && { readStdin: async () => options.stdin as string }),
    ...(options.isTTY !== undefined && { isTTY: options.isTTY }),
  });
  return { code, stdout, stderr };
}
