import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { EXIT_CODES, isVramplanError } from "../../src/errors.js";
import { loadBuiltinModel } from "../../src/hub/builtin.js";
import { planLoadedModel } from "../../src/plan.js";
import { parseConversation } from "../../src/tokens/conversation.js";
import { runCliCaptured } from "../support/run-cli.js";

let root: string | undefined;
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = undefined;
});
const offline = async () => {
  root = await mkdtemp(join(tmpdir(), "vramplan-input-"));
  return { HF_HUB_CACHE: join(root, "hf"), VRAMPLAN_CACHE: join(root, "vramplan"), HF_HUB_OFFLINE: "1" };
};

describe("numbers from the command line", () => {
  it("a repeated flag: the last one wins, never a concatenation", async () => {
    const env = await offline();
    const context = JSON.parse((await runCliCaptured(["plan", "Qwen/Qwen2.5-7B", "-c", "8192", "-c", "16384", "--json"], env)).stdout);
    expect(context.options.context).toBe(16384);
    const batch = JSON.parse((await runCliCaptured(["plan", "Qwen/Qwen2.5-7B", "-c", "8k", "-b", "4", "-b", "8", "--json"], env)).stdout);
    expect(batch.options.batch).toBe(8);
    const gpus = JSON.parse((await runCliCaptured(["plan", "Qwen/Qwen2.5-7B", "-c", "8k", "--gpu", "H100", "--gpus", "4", "--gpus", "2", "--json"], env)).stdout);
    expect(gpus.serving.gpus).toBe(2);
  });

  it("each bad value says what is wrong with it, with exit code 2", async () => {
    const env = await offline();
    const cases: [string[], RegExp][] = [
      [["-c", "99999999999999999999"], /^vramplan: --context 99999999999999999999 is too large: vramplan plans up to 1,073,741,824 tokens$/m],
      [["-b", "-1"], /^vramplan: --batch must be a whole number of sequences such as 4, got "-1"$/m],
      [["--gpus", "abc"], /^vramplan: --gpus must be a whole number of GPUs such as 4, got "abc"$/m],
    ];
    for (const [flags, message] of cases) {
      const result = await runCliCaptured(["plan", "Qwen/Qwen2.5-7B", ...flags], env);
      expect(result.code).toBe(EXIT_CODES.usage);
      expect(result.stderr).toMatch(message);
    }
  });

  it("a plan whose bytes would pass 2^53 is refused, not rounded", async () => {
    const env = await offline();
    // 1,000,000 × 1,000,000,000 tokens × 57,344 B per token = 5.7e19 B > 2^53 ≈ 9.0e15.
    const result = await runCliCaptured(["plan", "Qwen/Qwen2.5-7B", "-c", "1000000000", "-b", "1000000"], env);
    expect(result.code).toBe(EXIT_CODES.usage);
    expect(result.stderr).toMatch(/need more than 2\^53 bytes of KV cache .* plan a shorter context or fewer sequences/);
    // A billion tokens of one sequence, 57,344,000,000,000 B, is below 2^53 and exact.
    const exact = JSON.parse((await runCliCaptured(["plan", "Qwen/Qwen2.5-7B", "-c", "1000000000", "--json"], env)).stdout);
    expect(exact.kvCache.bytes).toBe(57_344_000_000_000);
  });
});

describe("a config field that is present but invalid says so, with its value", () => {
  const cases: [string, unknown, RegExp][] = [
    ["hidden_size", -4096, /config\.json has hidden_size = -4096, which is not a positive whole number/],
    ["hidden_size", "4096", /config\.json has hidden_size = "4096", which is not a positive whole number/],
    ["num_attention_heads", 0, /config\.json has num_attention_heads = 0, which is not a positive whole number/],
  ];
  for (const [field, value, message] of cases) {
    it(`${field}: ${JSON.stringify(value)}`, async () => {
      const builtin = await loadBuiltinModel("Qwen/Qwen2.5-7B");
      const config = { ...builtin!.config, [field]: value };
      const loaded = { id: "acme/broken", revision: "main", commit: undefined, configSource: "builtin" as const, config, manifest: undefined, manifestSource: undefined, notes: [] };
      const error = (() => {
        try {
          planLoadedModel(loaded, { context: 4096 });
        } catch (caught) {
          return caught;
        }
      })();
      expect(isVramplanError(error) && error.code).toBe("unsupported");
      expect((error as Error).message).toMatch(message);
    });
  }
});

describe("a messages file", () => {
  it("a message without content is a malformed file naming the entry (only an assistant turn with tool_calls may omit it)", async () => {
    expect(() => parseConversation('[{"role": "system", "content": "hi"}, {"role": "user"}]', "chat.json")).toThrow(/chat\.json.*messages\[1\]\.content is missing: a user message needs content/);
    expect(parseConversation('[{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [{"id": "1"}]}]', "chat.json").messages).toHaveLength(2);
    const env = await offline();
    const file = join(root as string, "chat.json");
    await writeFile(file, '[{"role": "user"}]');
    const result = await runCliCaptured(["tokens", "Qwen/Qwen2.5-7B-Instruct-AWQ", "--messages", file], env);
    expect(result.code).toBe(EXIT_CODES.malformed);
    expect(result.stderr).toMatch(/messages\[0\]\.content is missing/);
  });

  it("100,000 levels of nesting is a malformed file (exit 7), not a stack overflow (exit 1)", async () => {
    const env = await offline();
    const file = join(root as string, "deep.json");
    await writeFile(file, `[{"role": "user", "content": ${"[".repeat(100_000)}${"]".repeat(100_000)}}]`);
    const result = await runCliCaptured(["tokens", "Qwen/Qwen2.5-7B-Instruct-AWQ", "--messages", file], env);
    expect(result.code).toBe(EXIT_CODES.malformed);
    expect(result.stderr).toMatch(/deep\.json: nests more than 100 levels deep/);
  });
});

describe("--version", () => {
  it("is the package's version from any working directory", async () => {
    const bin = fileURLToPath(new URL("../../bin/vramplan.js", import.meta.url));
    const elsewhere = await mkdtemp(join(tmpdir(), "vramplan-cwd-"));
    root = elsewhere;
    const output = await new Promise<string>((resolve) => execFile(process.execPath, [bin, "--version"], { cwd: elsewhere }, (_error, stdout) => resolve(stdout)));
    expect(output.trim()).toBe("0.1.0");
  });
});

describe("batch output keeps the warnings", () => {
  it("gpt2 at 8k in CSV: the context-beyond-maximum warning is in its row", async () => {
    const env = await offline();
    const result = await runCliCaptured(["batch", "-", "-c", "8k", "--format", "csv"], env, { stdin: "openai-community/gpt2\n" });
    const [header, row] = result.stdout.trim().split("\n");
    const warnings = header!.split(",").indexOf("warnings");
    expect(warnings).toBeGreaterThan(0);
    expect(row).toMatch(/context 8,192 exceeds the model's maximum of 1,024 tokens/);
    const table = await runCliCaptured(["batch", "-", "-c", "8k"], env, { stdin: "openai-community/gpt2\n" });
    expect(table.stdout).toMatch(/warning: context 8,192 exceeds the model's maximum of 1,024 tokens/);
  });
});

describe("batch --out", () => {
  it("a directory, a missing directory or an unwritable path is a usage error before any model is planned; the extension picks the format", async () => {
    const env = await offline();
    const dir = root as string;
    const cases: [string, RegExp][] = [
      [dir, /--out .* is a directory: name a file in it/],
      [join(dir, "missing", "plans.csv"), /the directory .*missing does not exist; create it first/],
      ["/proc/vramplan-test.csv", /cannot write --out \/proc\/vramplan-test\.csv: E[A-Z]+; name a writable file/],
    ];
    for (const [out, message] of cases) {
      const result = await runCliCaptured(["batch", "-", "-c", "8k", "--out", out], env, { stdin: "Qwen/Qwen2.5-7B\n" });
      expect(result.code).toBe(EXIT_CODES.usage);
      expect(result.stderr).toMatch(message);
    }
    const csv = join(dir, "plans.csv");
    expect((await runCliCaptured(["batch", "-", "-c", "8k", "--out", csv], env, { stdin: "Qwen/Qwen2.5-7B\n" })).code).toBe(0);
    expect((await readFile(csv, "utf8")).split("\n")[0]).toMatch(/^model,status,kind,commit,/);
  });
});

describe("the environment", () => {
  it("HF_ENDPOINT that is not an http(s) URL is one usage error", async () => {
    const env = await offline();
    for (const [endpoint, message] of [
      ["notaurl", /HF_ENDPOINT "notaurl" is not a URL/],
      ["ftp://x", /HF_ENDPOINT "ftp:\/\/x" is not an http\(s\) URL \(ftp\)/],
    ] as const) {
      const result = await runCliCaptured(["plan", "Qwen/Qwen2.5-7B"], { ...env, HF_ENDPOINT: endpoint });
      expect(result.code).toBe(EXIT_CODES.usage);
      expect(result.stderr).toMatch(message);
    }
  });

  it("offline, a model id in another case still finds the built-in copy, as the Hub would", async () => {
    const env = await offline();
    const result = await runCliCaptured(["plan", "qwen/qwen2.5-7b", "-c", "8k", "--json"], env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).weights.bytes).toBe(15_231_233_024);
  });
});

describe("errors name options as the caller spells them", () => {
  it("the library says `gpus`, the CLI --gpus; a refused --context is --context on the command line", async () => {
    const { plan } = await import("../../src/plan.js");
    const env = await offline();
    const error = await plan("meta-llama/Llama-3.1-8B", { context: 8192, serving: { gpu: "H100", gpus: 3 }, hub: { hfCacheDir: env.HF_HUB_CACHE, cacheDir: env.VRAMPLAN_CACHE, offline: true } }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/^vllm refuses `gpus` 3 \(tensor parallel\)/);
    const cli = await runCliCaptured(["plan", "meta-llama/Llama-3.1-8B", "-c", "8k", "--gpu", "H100", "--gpus", "3"], env);
    expect(cli.stderr).toMatch(/^vramplan: vllm refuses --gpus 3 \(tensor parallel\)/);
    const strict = await runCliCaptured(["plan", "openai-community/gpt2", "-c", "8k", "--strict"], env);
    expect(strict.code).toBe(EXIT_CODES.contextTooLong);
    expect(strict.stderr).toMatch(/lower --context, or drop --strict/);
  });

  it("warnings and notes too: the library's train report says `seq` and `zero`, the CLI's table --seq and --zero", async () => {
    const { planTrain } = await import("../../src/train.js");
    const env = await offline();
    const hub = { hfCacheDir: env.HF_HUB_CACHE, cacheDir: env.VRAMPLAN_CACHE, offline: true };
    const options = { method: "full", precision: "mixed-bf16", optimizer: "adamw", seq: 204_800, microBatch: 1, gradAccum: 1, gpus: 2, zero: 0, flashAttention: true, checkpointing: "none", loss: "naive", loraRank: 16 } as const;
    const report = await planTrain("Qwen/Qwen2.5-7B", { ...options, loraTargets: ["all-linear"] }, hub);
    const messages = report.warnings.map((warning) => warning.message);
    expect(messages).toContain("`seq` 204,800 exceeds the model's maximum of 131,072 tokens");
    expect(messages.find((message) => message.startsWith("ZeRO stage 0"))).toMatch(/try `zero` 3 \(or `fsdp`\)$/);
    const cli = await runCliCaptured(["train", "Qwen/Qwen2.5-7B", "--seq", "200k", "--gpus", "2"], { ...env, COLUMNS: "250" });
    expect(cli.stdout).toContain("warning: --seq 204,800 exceeds the model's maximum of 131,072 tokens");
    expect(cli.stdout).toMatch(/try --zero 3 \(or --fsdp\)$/m);
    expect(cli.stdout).not.toContain("`");
  });
});

describe("parse failures and help", () => {
  it("a missing model id and an unknown flag say what to do, the flag named once as typed", async () => {
    const env = await offline();
    const missing = await runCliCaptured(["plan"], env);
    expect(missing.code).toBe(EXIT_CODES.usage);
    expect(missing.stderr).toBe("vramplan: plan needs a model id, e.g. vramplan plan Qwen/Qwen2.5-7B (see vramplan plan --help)\n");
    const unknown = await runCliCaptured(["plan", "x/y", "--bogus-flag", "1"], env);
    expect(unknown.stderr).toBe("vramplan: unknown option: --bogus-flag (see vramplan plan --help)\n");
    const command = await runCliCaptured(["gpus"], env);
    expect(command.code).toBe(2);
    expect(command.stderr).toBe("vramplan: unknown command: gpus; the commands are plan, batch, tokens, train, cache, dtype, serve (see vramplan --help)\n");
  });

  it("help examples are whole lines that can be pasted, and the top level has examples", async () => {
    // yargs writes help to the process's own stdout: run the built CLI.
    const bin = fileURLToPath(new URL("../../bin/vramplan.js", import.meta.url));
    const help = (args: string[]) => new Promise<string>((resolve) => execFile(process.execPath, [bin, ...args], { env: { COLUMNS: "80" } }, (_error, stdout) => resolve(stdout)));
    const top = await help(["--help"]);
    expect(top).toContain("Examples:");
    expect(top).toContain("vramplan plan meta-llama/Llama-3.1-8B -c 16k --gpu H100 --engine vllm@0.11");
    const train = await help(["train", "--help"]);
    const example = train.split("\n").find((line) => line.includes("vramplan train") && line.includes("--lora-targets"));
    expect(example ?? "").toContain("--lora-targets q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj");
  });

  it("every option of every command says what it does", async () => {
    const bin = fileURLToPath(new URL("../../bin/vramplan.js", import.meta.url));
    const help = (args: string[]) => new Promise<string>((resolve) => execFile(process.execPath, [bin, ...args], { env: {} }, (_error, stdout) => resolve(stdout)));
    const undescribed: string[] = [];
    let options = 0;
    for (const command of ["plan", "train", "batch", "tokens", "dtype", "cache", "serve"]) {
      const text = await help([command, "--help"]);
      expect(text, command).toContain("Options:");
      for (const line of text.split("\n")) {
        // "  -c, --context  Tokens per sequence …  [string]": the words between the flag and its type.
        const option = /^\s+(?:-\w, )?(--[\w-]+)\s+(.*)$/.exec(line);
        if (!option) continue;
        options += 1;
        if ((option[2] ?? "").trim().startsWith("[")) undescribed.push(`${command} ${option[1]}`);
      }
    }
    expect(options).toBeGreaterThan(60);
    expect(undescribed).toEqual([]);
  });
});
