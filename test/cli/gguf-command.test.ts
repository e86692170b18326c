import { afterEach, describe, expect, it } from "vitest";
import { runCliCaptured } from "../support/run-cli.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";

let settings: TempSettings;
afterEach(async () => settings?.cleanup());

async function offlineEnv() {
  settings = await tempSettings();
  // A wide terminal: these tests read whole lines; fitting to a width has its own test.
  return { HF_HUB_CACHE: settings.hfCacheDir, VRAMPLAN_CACHE: settings.cacheDir, HF_HUB_OFFLINE: "1", COLUMNS: "250" };
}

/*
 * Llama-3.1-8B's tensors (hidden 4,096, FFN 14,336, 8 KV heads × 128 = 1,024, vocab 128,256,
 * 32 layers) worked out by hand from ggml's block layouts: Q4_K 144 B and Q6_K 210 B per 256
 * values, Q8_0 34 B per 32, F32 4 B. Q4_K_M gives Q6_K to the output and, on the 16 layers
 * llama-quant.cpp's use_more_bits picks (0–3, 28–31, 6, 9, …, 27), to attn_v and ffn_down.
 */
const rows = (count: number, rowLength: number, valuesPerBlock: number, bytesPerBlock: number) => count * (rowLength / valuesPerBlock) * bytesPerBlock;
const norms = 2 * 4096 * 4;
const q4kLayer = (moreBits: boolean) =>
  rows(4096, 4096, 256, 144) * 2 + // attn_q, attn_output
  rows(1024, 4096, 256, 144) + // attn_k
  rows(1024, 4096, 256, moreBits ? 210 : 144) + // attn_v
  rows(14336, 4096, 256, 144) * 2 + // ffn_gate, ffn_up
  rows(4096, 14336, 256, moreBits ? 210 : 144) + // ffn_down
  norms;
const Q4_K_M_BYTES = rows(128256, 4096, 256, 144) + 16 * q4kLayer(true) + 16 * q4kLayer(false) + 4096 * 4 + rows(128256, 4096, 256, 210) + 64 * 4;
const Q8_0_LAYER = (2 * 4096 * 4096 + 2 * 1024 * 4096 + 3 * 14336 * 4096) * (34 / 32) + norms;
const Q8_0_BYTES = 2 * 128256 * 4096 * (34 / 32) + 32 * Q8_0_LAYER + 4096 * 4 + 64 * 4;
// Llama-3.1-8B has 8,030,261,248 parameters (+ 64 rope frequencies in the GGUF): 4 B each in f32.
const F32_BYTES = (8_030_261_248 + 64) * 4;

describe("vramplan plan on a GGUF repo (the built-in bartowski/Meta-Llama-3.1-8B-Instruct-GGUF)", () => {
  it("--context 8192 --gpu 4090: one row per quantization file, with its fit and llama.cpp's layer split", async () => {
    const result = await runCliCaptured(["plan", "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF", "--context", "8192", "--gpu", "4090"], await offlineEnv());
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(/^bartowski\/Meta-Llama-3\.1-8B-Instruct-GGUF @ main \(built-in copy\) · GGUF · llama · 8\.03 billion parameters · 32 layers · 32 query \/ 8 KV heads · head_dim 128$/);
    // KV: 32 layers × (K, V) × 8 heads × 128 × 2 B × 8,192 = 1,073,741,824 B.
    expect(lines[1]).toContain("KV cache f16: 1,073,741,824 B");
    const row = (name: string) => lines.find((line) => line.trimStart().startsWith(`Meta-Llama-3.1-8B-Instruct-${name} `)) ?? "";
    expect(row("Q4_K_M")).toMatch(new RegExp(`Q4_K_M\\s+4\\.89\\s+${Q4_K_M_BYTES.toLocaleString("en-US")}\\s+[\\d.]+\\s+[\\d.]+\\s+yes\\s+all \\(33\\)`));
    expect(row("Q8_0")).toMatch(/\s8\.50\s+8,532,934,912\s.*\syes\s+all \(33\)/);
    expect(row("f32")).toMatch(/\sno\s+\d+ of 32\s/);
    expect(result.stdout).toContain("largest that fits entirely: Meta-Llama-3.1-8B-Instruct-Q8_0 (Q8_0");
  });

  it("--json carries the same rows", async () => {
    const result = await runCliCaptured(["plan", "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF", "--context", "8192", "--gpu", "4090", "--json"], await offlineEnv());
    const plan = JSON.parse(result.stdout);
    expect(plan.schema).toBe("vramplan.gguf-plan/1");
    const byQuant = Object.fromEntries(plan.files.map((file: { quant: string }) => [file.quant, file]));
    expect(Object.keys(byQuant).sort()).toEqual(["F32", "Q4_K_M", "Q6_K", "Q8_0"]);
    expect(byQuant["Q4_K_M"]).toMatchObject({ fits: true, gpuLayers: 33, weights: { bytes: Q4_K_M_BYTES } });
    expect(byQuant["Q8_0"].weights.bytes).toBe(Q8_0_BYTES);
    expect(byQuant["F32"]).toMatchObject({ fits: false, weights: { bytes: F32_BYTES } });
    expect(byQuant["F32"].gpuLayers).toBeLessThan(32);
    // llama.cpp's quantize README measures Q4_K_M at 4.89 bits per weight on Llama-3.1-8B.
    expect(byQuant["Q4_K_M"].weights.bitsPerWeight).toBeCloseTo(4.89, 2);
    expect(plan.largestFitting).toBe("Meta-Llama-3.1-8B-Instruct-Q8_0");
  });

  it("--file plans one file; --ram says whether the rest fits in system memory", async () => {
    const env = await offlineEnv();
    const one = JSON.parse((await runCliCaptured(["plan", "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF", "--file", "f32", "-c", "8k", "--gpu", "4090", "--ram", "4GiB", "--json"], env)).stdout);
    expect(one.files).toHaveLength(1);
    expect(one.files[0]).toMatchObject({ quant: "F32", fitsRam: false });
    expect(one.options.ramBytes).toBe(4 * 2 ** 30);
    const unknown = await runCliCaptured(["plan", "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF", "--file", "Q3_K_L"], env);
    expect(unknown.stderr).toBe('vramplan: bartowski/Meta-Llama-3.1-8B-Instruct-GGUF has no GGUF file "Q3_K_L": choose one of F32, Q8_0, Q6_K, Q4_K_M\n');
  });
});
