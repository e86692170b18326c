import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadBuiltinModel } from "../../src/hub/builtin.js";
import { planLoadedModel } from "../../src/plan.js";
import type { TensorEntry, TensorManifest } from "../../src/model/manifest.js";
import { sharedObservations } from "../support/realworld.js";

/*
 * Published parameter totals (../shared/realworld/observations.json, kind D: the Hub's safetensors
 * totals, scales excluded where the entry says so) against vramplan's count from config.json
 * alone. Each figure is copied here with its entry id, so the test runs without ../shared too;
 * beside it, the copy is checked against the file.
 */
interface Published {
  id: string;
  model: string;
  config: () => Promise<Record<string, unknown>>;
  total: number;
  /** The observations.json field the total was copied from; none for totals from elsewhere. */
  field?: [string, string];
  /**
   * What the figure counts: parameters, or the values the safetensors files store (an fp8
   * checkpoint's weight_scale_inv included), which the Hub's safetensors total shows.
   */
  counts?: "stored values";
}

const builtin = (id: string) => async () => (await loadBuiltinModel(id))?.config as Record<string, unknown>;
const fixture = (dir: string) => async () => JSON.parse(readFileSync(new URL(`../fixtures/realworld/${dir}/config.json`, import.meta.url), "utf8")) as Record<string, unknown>;
/** A plan at 4,096 tokens from a config (and, where given, the checkpoint's tensor headers). */
const planFromConfig = (id: string, config: Record<string, unknown>, manifest?: TensorManifest) =>
  planLoadedModel({ id, revision: "main", commit: undefined, configSource: "builtin", config, manifest, manifestSource: manifest ? "hub" : undefined, notes: [] }, { context: 4096 });
/**
 * Qwen's -FP8 releases: the same model with "fine-grained fp8 quantization with block size of 128"
 * (their model cards), the block-fp8 quantization_config DeepSeek-V3's built-in config carries.
 */
const blockFp8 = (config: () => Promise<Record<string, unknown>>) => async () => ({
  ...(await config()),
  quantization_config: { activation_scheme: "dynamic", fmt: "e4m3", quant_method: "fp8", weight_block_size: [128, 128] },
});

const PUBLISHED: Published[] = [
  { id: "D01", model: "openai/gpt-oss-20b", config: builtin("openai/gpt-oss-20b"), total: 20_914_757_184, field: ["D01", "parameter total (scales excluded)"] },
  { id: "D02", model: "openai/gpt-oss-120b", config: fixture("openai--gpt-oss-120b"), total: 116_829_156_672, field: ["D02", "parameter total (scales excluded)"] },
  { id: "D03", model: "Qwen/Qwen3-Next-80B-A3B-Instruct", config: builtin("Qwen/Qwen3-Next-80B-A3B-Instruct"), total: 81_324_862_720, field: ["D03", "parameter total"] },
  { id: "D15", model: "Qwen/Qwen3-30B-A3B", config: builtin("Qwen/Qwen3-30B-A3B"), total: 30_532_122_624, field: ["D15", "Qwen/Qwen3-30B-A3B"] },
  { id: "D15", model: "Qwen/Qwen3-8B", config: fixture("Qwen--Qwen3-8B"), total: 8_190_735_360, field: ["D15", "Qwen/Qwen3-8B"] },
  { id: "D11", model: "microsoft/phi-4", config: fixture("microsoft--phi-4"), total: 14_659_507_200, field: ["D11", "microsoft/phi-4"] },
  { id: "D14", model: "HuggingFaceTB/SmolLM3-3B", config: fixture("HuggingFaceTB--SmolLM3-3B"), total: 3_075_098_624, field: ["D14", "HuggingFaceTB/SmolLM3-3B"] },
  { id: "D14", model: "google/gemma-3-4b-it", config: fixture("google--gemma-3-4b-it"), total: 4_300_079_472, field: ["D14", "google/gemma-3-4b-it (incl. SigLIP vision)"] },
  { id: "D08", model: "zai-org/GLM-4.5", config: fixture("zai-org--GLM-4.5"), total: 358_337_791_296, field: ["D08", "parameter total"] },
  { id: "D09", model: "zai-org/GLM-4.5-Air", config: fixture("zai-org--GLM-4.5-Air"), total: 110_468_824_832, field: ["D09", "parameter total"] },
  { id: "D10", model: "MiniMaxAI/MiniMax-M2", config: fixture("MiniMaxAI--MiniMax-M2"), total: 228_689_764_864, field: ["D10", "parameter total"] },
  { id: "D14", model: "google/gemma-3-1b-it", config: fixture("google--gemma-3-1b-it"), total: 999_885_952, field: ["D14", "google/gemma-3-1b-it"] },
  { id: "D14", model: "LiquidAI/LFM2-1.2B", config: fixture("LiquidAI--LFM2-1.2B"), total: 1_170_340_608, field: ["D14", "LiquidAI/LFM2-1.2B"] },
  { id: "D15", model: "Qwen/Qwen3-235B-A22B", config: fixture("Qwen--Qwen3-235B-A22B"), total: 235_093_634_560, field: ["D15", "Qwen/Qwen3-235B-A22B"] },
  { id: "D16", model: "mistralai/Mixtral-8x22B-v0.1", config: fixture("mistralai--Mixtral-8x22B-v0.1"), total: 140_620_634_112, field: ["D16", "parameter total"] },
  { id: "D12", model: "ibm-granite/granite-4.0-h-small", config: fixture("ibm-granite--granite-4.0-h-small"), total: 32_207_337_984, field: ["D12", "granite-4.0-h-small"] },
  { id: "D15", model: "Qwen/Qwen3-Coder-480B-A35B-Instruct", config: fixture("Qwen--Qwen3-Coder-480B-A35B-Instruct"), total: 480_154_875_392, field: ["D15", "Qwen/Qwen3-Coder-480B-A35B-Instruct"] },
  { id: "D15", model: "Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8", config: blockFp8(fixture("Qwen--Qwen3-Coder-480B-A35B-Instruct")), total: 480_184_064_000, field: ["D15", "Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8"], counts: "stored values" },
  { id: "D07", model: "deepseek-ai/DeepSeek-V3", config: builtin("deepseek-ai/DeepSeek-V3"), total: 684_531_386_000, field: ["D07", "DeepSeek-V3 (both files)"], counts: "stored values" },
  { id: "D07", model: "deepseek-ai/DeepSeek-V3.2-Exp", config: fixture("deepseek-ai--DeepSeek-V3.2-Exp"), total: 685_396_921_376, field: ["D07", "DeepSeek-V3.2-Exp / Speciale (file 69468411049)"], counts: "stored values" },
  { id: "D15", model: "Qwen/Qwen3-30B-A3B-Instruct-2507-FP8", config: blockFp8(builtin("Qwen/Qwen3-30B-A3B")), total: 30_533_947_392, field: ["D15", "Qwen/Qwen3-30B-A3B-Instruct-2507-FP8"], counts: "stored values" },
  { id: "D15", model: "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8", config: blockFp8(fixture("Qwen--Qwen3-235B-A22B")), total: 235_107_904_512, field: ["D15", "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8"], counts: "stored values" },
  { id: "D12", model: "ibm-granite/granite-4.0-micro", config: fixture("ibm-granite--granite-4.0-micro"), total: 3_402_836_480, field: ["D12", "granite-4.0-micro"] },
  { id: "D12", model: "ibm-granite/granite-4.0-1b", config: fixture("ibm-granite--granite-4.0-1b"), total: 1_631_750_144, field: ["D12", "granite-4.0-1b"] },
  { id: "D12", model: "ibm-granite/granite-4.0-350m", config: fixture("ibm-granite--granite-4.0-350m"), total: 352_379_904, field: ["D12", "granite-4.0-350m"] },
  { id: "D11", model: "microsoft/Phi-4-mini-instruct", config: fixture("microsoft--Phi-4-mini-instruct"), total: 3_836_021_760, field: ["D11", "microsoft/Phi-4-mini-instruct"] },
  { id: "D11", model: "microsoft/Phi-4-mini-flash-reasoning", config: fixture("microsoft--Phi-4-mini-flash-reasoning"), total: 3_852_562_944, field: ["D11", "microsoft/Phi-4-mini-flash-reasoning"] },
  // Not in ../shared: a public table of the Hub API's safetensors.total for many models (a KNOWN_MODELS
  // dict, "HF Hub API 2026-09-25") lists these two, and a public page prints both config.json files whole.
  // The -Instruct twins below share their base models' shapes and configs.
  { id: "Hub", model: "allenai/OLMo-2-1124-7B-Instruct", config: fixture("allenai--OLMo-2-1124-7B-Instruct"), total: 7_298_617_344 },
  { id: "Hub", model: "ibm-granite/granite-3.3-8b-instruct", config: fixture("ibm-granite--granite-3.3-8b-instruct"), total: 8_170_864_640 },
  // The same table's figures for models whose configs the built-in set or the fixtures hold.
  { id: "Hub", model: "meta-llama/Llama-3.1-8B-Instruct", config: builtin("meta-llama/Llama-3.1-8B"), total: 8_030_261_248 },
  { id: "Hub", model: "meta-llama/Llama-3.2-1B-Instruct", config: builtin("meta-llama/Llama-3.2-1B"), total: 1_235_814_400 },
  { id: "Hub", model: "microsoft/Phi-3-mini-4k-instruct", config: builtin("microsoft/Phi-3-mini-4k-instruct"), total: 3_821_079_552 },
  { id: "Hub", model: "Qwen/Qwen2.5-0.5B-Instruct", config: builtin("Qwen/Qwen2.5-0.5B"), total: 494_032_768 },
  { id: "Hub", model: "Qwen/Qwen2.5-7B-Instruct", config: builtin("Qwen/Qwen2.5-7B"), total: 7_615_616_512 },
  // The Hub's totals for Qwen3.5 count the vision tower and the MTP layer with the language model.
  { id: "D13", model: "Qwen/Qwen3.5-0.8B", config: fixture("Qwen--Qwen3.5-0.8B"), total: 873_438_784, field: ["D13", "Qwen/Qwen3.5-0.8B"] },
  { id: "D13", model: "Qwen/Qwen3.5-4B", config: fixture("Qwen--Qwen3.5-4B"), total: 4_659_865_088, field: ["D13", "Qwen/Qwen3.5-4B"] },
  { id: "D13", model: "Qwen/Qwen3.5-9B", config: fixture("unsloth--Qwen3.5-9B"), total: 9_653_104_368, field: ["D13", "Qwen/Qwen3.5-9B"] },
];

describe("published totals from config.json alone (kind D)", () => {
  it("match to the parameter", async () => {
    const rows: string[] = ["| entry | model | published | vramplan (config.json) | off |", "|---|---|---|---|---|"];
    for (const entry of PUBLISHED) {
      const config = await entry.config();
      const planned = planFromConfig(entry.model, config);
      const counted = entry.counts === "stored values" ? planned.weights.storedElements : planned.weights.parameters;
      const label = entry.counts === "stored values" ? `${entry.model} (stored values, scales included)` : entry.model;
      rows.push(`| ${entry.id} | ${label} | ${entry.total.toLocaleString("en-US")} | ${(counted ?? 0).toLocaleString("en-US")} | ${(counted ?? 0) - entry.total} |`);
      expect(counted, entry.model).toBe(entry.total);
    }
    console.info(rows.join("\n"));
  });

  it("LFM2's cache, as vLLM allocates it: K and V on its 6 attention layers, a short-convolution state on the other 10", async () => {
    const config = await fixture("LiquidAI--LFM2-1.2B")();
    const planned = planFromConfig("LiquidAI/LFM2-1.2B", config);
    // Attention: 6 layers × 2 (K, V) × 8 KV heads × 64 (2,048 / 32 heads) × 2 B × 4,096 tokens = 50,331,648.
    // Short conv: vLLM's short_conv_state_shape is (conv_L_cache − 1, conv_dim) = 2 × 2,048 values
    // per layer and sequence, in bf16: 10 × 2 × 2,048 × 2 B = 81,920.
    expect([planned.kvCache.attentionBytes, planned.kvCache.stateBytes]).toEqual([50_331_648, 81_920]);
  });

  it("DeepSeek-V3.2's cache: MLA's latent vector and the indexer's fp8 key beside it, as vLLM allocates them", async () => {
    const config = await fixture("deepseek-ai--DeepSeek-V3.2-Exp")();
    const planned = planFromConfig("deepseek-ai/DeepSeek-V3.2-Exp", config);
    // Per token and layer: (512 + 64) bf16 values = 1,152 B, and DeepseekV32IndexerCache's
    // head_dim + head_dim / 128 × 4 = 132 uint8; 61 layers × 1,284 B × 4,096 tokens.
    expect(planned.kvCache.bytes).toBe(61 * 1284 * 4096);
  });

  it("Kimi-K2-Instruct (D06): the Hub's 3,416 extra values are 61 stored rotary inv_freq buffers; config.json counts the rest, its bytes to the byte", async () => {
    const config = await fixture("moonshotai--Kimi-K2-Instruct")();
    const fromConfig = planFromConfig("moonshotai/Kimi-K2-Instruct", config);
    // A public audit that read all 61 shard headers of Kimi-K2-Instruct (139,644 tensors) counts
    // 1,026,408,232,448 logical parameters, "scale/shape/RoPE buffers not counted"; Fireworks' model
    // list gives the same paramCount for Kimi K2 Instruct.
    expect(fromConfig.weights.parameters).toBe(1_026_408_232_448);
    // A public dump of the checkpoint's header (38 rows, below) lists
    // model.layers.N.self_attn.rotary_emb.inv_freq [56] BF16 on all 61 layers: 3,416 values, 6,832 B.
    // config.json cannot foresee a buffer the checkpoint happens to store, and engines do not load it,
    // so from config alone the bytes come out exactly that far under the audit's 1,029,173,256,720.
    expect(1_029_173_256_720 - fromConfig.weights.bytes).toBe(61 * 56 * 2);

    const fromHeaders = planFromConfig("moonshotai/Kimi-K2-Instruct", config, kimiK2Manifest());
    const weights = fromHeaders.weights;
    console.info(
      [
        "| Kimi-K2 | published | vramplan from the listed headers |",
        `| parameters (audit, Fireworks) | 1,026,408,232,448 | ${weights.parameters.toLocaleString("en-US")} |`,
        `| + stored buffers (D06 "parameter total") | 1,026,408,235,864 | ${(weights.parameters + weights.buffers.elements).toLocaleString("en-US")} |`,
        `| every stored value (D06 Kimi-K2-Base, the dump's total) | 1,026,470,731,056 | ${(weights.storedElements ?? 0).toLocaleString("en-US")} |`,
        `| checkpoint bytes (D06) | 1,029,173,256,720 | ${weights.bytes.toLocaleString("en-US")} |`,
      ].join("\n"),
    );
    expect(weights.tensorCount).toBe(139_644);
    expect(weights.parameters).toBe(1_026_408_232_448);
    expect(weights.buffers).toEqual({ tensors: 61, elements: 3416, bytes: 6832 });
    expect(weights.parameters + weights.buffers.elements).toBe(1_026_408_235_864);
    expect(weights.storedElements).toBe(1_026_470_731_056);
    expect(weights.bytes).toBe(1_029_173_256_720);
    const observations = sharedObservations();
    const reported = observations?.find((candidate) => candidate.id === "D06")?.reported as Record<string, unknown> | undefined;
    if (reported) expect([reported["parameter total"], reported["Kimi-K2-Base"], reported["checkpoint bytes"]]).toEqual([1_026_408_235_864, 1_026_470_731_056, 1_029_173_256_720]);
  });

  it("Kimi-K2.5: MoonViT and its projector from vision_config, and the int4 experts' bytes, to the audit's figures", async () => {
    const config = await fixture("moonshotai--Kimi-K2.5")();
    const planned = planFromConfig("moonshotai/Kimi-K2.5", config);
    // The public audit that read all 64 shard headers of Kimi-K2.5 (and of K2.6 and K2.7-Code,
    // the same layout): 1,026,879,376,368 logical parameters and 595,148,192,736 payload bytes.
    expect(planned.weights.parameters).toBe(1_026_879_376_368);
    expect(planned.weights.bytes).toBe(595_148_192_736);
    // The vision rows of a public dump of its headers, worked by hand (1,152 wide, 4,304 MLP, 27 blocks):
    const h = 1152;
    const block = 2 * 2 * h + (3 * h * h + 3 * h) + (h * h + h) + (4304 * h + 4304) + (h * 4304 + h); // norm0/1, wqkv, wo, fc0, fc1
    const patchEmbed = 1152 * 3 * 14 * 14 + 1152 + 64 * 64 * 1152; // proj.weight [1152,3,14,14], proj.bias, pos_emb [64,64,1152]
    const projector = 2 * h + (4608 * 4608 + 4608) + (7168 * 4608 + 7168); // pre_norm, proj.0, proj.2
    const tower = patchEmbed + 27 * block + 2 * h + projector; // + encoder.final_layernorm
    expect(planned.weights.visionTowerFromConfig?.parameters).toBe(tower);
    // And it is what Kimi-K2.5 adds to Kimi-K2's 1,026,408,232,448 in the same audit.
    expect(tower).toBe(1_026_879_376_368 - 1_026_408_232_448);
    expect(planned.weights.components.map((component) => [component.name, component.parameters])).toEqual([
      ["language model", 1_026_408_232_448],
      ["vision tower", tower],
    ]);
    // Bytes, worked from the dump: the routed experts are int4 (weight_packed I32, a BF16 scale per
    // 32 inputs, an I32 [2] weight_shape); quantization_config's ignore list keeps attention, the
    // shared experts and the dense MLP in BF16; e_score_correction_bias is F32; the tower BF16.
    const expert = 3 * (7168 * 256 * 4 + 7168 * 64 * 2 + 8);
    const routed = 60 * 384 * 3 * 7168 * 2048;
    const rest = (1_026_408_232_448 - routed - 60 * 384) * 2 + 60 * 384 * 4;
    expect(60 * 384 * expert + rest + 2 * tower).toBe(595_148_192_736);
  });

  it("Phi-4-mini-flash-reasoning (SambaY): the layers by kind, and a cache only where a layer keeps one", async () => {
    const config = await fixture("microsoft--Phi-4-mini-flash-reasoning")();
    const planned = planFromConfig("microsoft/Phi-4-mini-flash-reasoning", config);
    // By hand from modeling_phi4flash.py (h 2,560, I 10,240, Mamba inner 5,120, d_state 16, d_conv 4,
    // dt_rank ⌈2,560 / 16⌉ = 160, head_dim 64, 20 KV heads):
    const h = 2560;
    const inner = 5120;
    const common = 3 * h * 10240 + 2 * 2 * h; // fc1 (h → 2I) and fc2, two biased LayerNorms
    const mamba = h * 2 * inner + (inner * 4 + inner) + inner * (160 + 32) + (160 * inner + inner) + inner * 16 + inner + inner * h;
    const attention = h * (h + 2 * 20 * 64) + (h + 2 * 20 * 64) + (h * h + h) + 6 * 64; // Wqkv, out_proj, 4 λ, subln
    const gmu = 2 * h * inner;
    const cross = 2 * (h * h + h) + 6 * 64;
    // Layers 0–16 even: Mamba (9); 1–17 odd: attention (9); 18–30 even: GMU (7); 19–31 odd: cross (7).
    const total = 200064 * h + 2 * h + 32 * common + 9 * mamba + 9 * attention + 7 * gmu + 7 * cross;
    expect(total).toBe(3_852_562_944);
    expect(planned.weights.parameters).toBe(total);
    // vLLM allocates KV for the 8 sliding layers (512 tokens) and layer 17 (all of them); the cross
    // layers share layer 17's (kv_sharing_target_layer_name); Mamba state for 9 layers, conv
    // (5,120 × 3) and SSM (5,120 × 16), in bf16 (phi4flash.py _get_mamba_cache_shape).
    expect(planned.kvCache.attentionBytes).toBe((8 * 512 + 4096) * 2 * 20 * 64 * 2);
    expect(planned.kvCache.stateBytes).toBe(9 * (5120 * 3 + 5120 * 16) * 2);
  });

  it("Qwen3-0.6B: the Hub's 751,632,384 counts a stored copy of the tied head; config.json counts the model's own parameters", async () => {
    // The same Hub table lists 'Qwen/Qwen3-0.6B': 751632384. Its config ties the embeddings, and
    // engines load lm_head as the embedding (vLLM skips lm_head.weight when tied), but the
    // checkpoint stores lm_head.weight too: exactly vocab × hidden = 151,936 × 1,024 more.
    const planned = planFromConfig("Qwen/Qwen3-0.6B", await fixture("Qwen--Qwen3-0.6B")());
    expect(751_632_384 - planned.weights.parameters).toBe(151936 * 1024);
  });

  it("OLMo-2-1124-13B (float32 checkpoint): its index's total_size from config.json alone", async () => {
    // A public repository copies the release's config.json and model.safetensors.index.json:
    // "total_size": 54864793600, all float32 (torch_dtype), so 13,716,198,400 parameters.
    const config = await fixture("allenai--OLMo-2-1124-13B")();
    const planned = planFromConfig("allenai/OLMo-2-1124-13B", config);
    // By hand: embeddings and lm_head 2 × 100,352 × 5,120; per layer q, k, v, o 4 × 5,120², q_norm and
    // k_norm over all 40 heads (2 × 5,120), the MLP 3 × 5,120 × 13,824 and two RMSNorms; a final norm.
    const perLayer = 4 * 5120 * 5120 + 2 * 5120 + 3 * 5120 * 13824 + 2 * 5120;
    expect(planned.weights.parameters).toBe(2 * 100352 * 5120 + 40 * perLayer + 5120);
    expect(planned.weights.bytes).toBe(54_864_793_600);
    expect(planned.warnings.filter((warning) => warning.code === "guessed-field")).toEqual([]);
  });

  it("Qwen3.6 (dense and MoE, not in ../shared): the Hub's totals from config.json alone", async () => {
    // The same public table of Hub API safetensors.total that D13 was taken from lists
    // 'Qwen/Qwen3.6-27B': 27781427952 and 'Qwen/Qwen3.6-35B-A3B': 35951822704 (another public file
    // quotes "huggingface Qwen/Qwen3.6-35B-A3B@995ad96eacd9: safetensors.total=35951822704").
    for (const [id, dir, total] of [
      ["Qwen/Qwen3.6-27B", "Qwen--Qwen3.6-27B", 27_781_427_952],
      ["Qwen/Qwen3.6-35B-A3B", "Qwen--Qwen3.6-35B-A3B", 35_951_822_704],
    ] as const) {
      const config = await fixture(dir)();
      const planned = planFromConfig(id, config);
      expect(planned.weights.parameters, id).toBe(total);
    }
  });

  it("Qwen3-VL-8B-Instruct: its text model, vision tower and three deepstack mergers from config.json", async () => {
    const config = await fixture("Qwen--Qwen3-VL-8B-Instruct")();
    const planned = planFromConfig("Qwen/Qwen3-VL-8B-Instruct", config);
    // The Hub's API for Qwen/Qwen3-VL-8B-Instruct (revision 0c351dd0), as a public verification
    // table quotes it: "safetensors":{"parameters":{"BF16":8767123696},"total":8767123696}.
    expect(planned.weights.parameters).toBe(8_767_123_696);
    // Deepstack mergers, worked by hand: LayerNorm over the merged width 4 × 1,152 = 4,608 (weight
    // and bias), fc1 4,608 → 4,608 and fc2 4,608 → 4,096, both biased.
    const deepstackMerger = 2 * 4608 + (4608 * 4608 + 4608) + (4608 * 4096 + 4096);
    expect(planned.weights.visionTowerFromConfig?.merger).toBe(2 * 1152 + (4608 * 4608 + 4608) + (4608 * 4096 + 4096) + 3 * deepstackMerger);
  });

  it("the copies above are the observations file's figures", () => {
    const observations = sharedObservations();
    if (!observations) return;
    for (const entry of PUBLISHED) {
      const field = entry.field;
      if (!field) continue;
      const reported = observations.find((candidate) => candidate.id === field[0])?.reported as Record<string, unknown> | undefined;
      expect(reported?.[field[1]], `${field[0]} ${field[1]}`).toBe(entry.total);
    }
  });
});

/**
 * Kimi-K2's safetensors headers as a public model report prints them, one row per tensor name
 * pattern (139,644 tensors "compressed to 38 rows"): name, shape, dtype, and how many layers (and
 * experts) repeat it. The shard a tensor sits in does not change what is counted, so all go in one file.
 */
function kimiK2Manifest(): TensorManifest {
  const width: Record<string, number> = { BF16: 2, F8_E4M3: 1, F32: 4 };
  const allLayers = Array.from({ length: 61 }, (_, layer) => layer);
  const moeLayers = allLayers.slice(1);
  const rows: [string, number[], string, number[], number][] = [
    ["lm_head.weight", [163840, 7168], "BF16", [], 1],
    ["model.embed_tokens.weight", [163840, 7168], "BF16", [], 1],
    ["model.norm.weight", [7168], "BF16", [], 1],
    ["input_layernorm.weight", [7168], "BF16", allLayers, 1],
    ["post_attention_layernorm.weight", [7168], "BF16", allLayers, 1],
    ["self_attn.kv_a_layernorm.weight", [512], "BF16", allLayers, 1],
    ["self_attn.kv_a_proj_with_mqa.weight", [576, 7168], "F8_E4M3", allLayers, 1],
    ["self_attn.kv_a_proj_with_mqa.weight_scale_inv", [5, 56], "F32", allLayers, 1],
    ["self_attn.kv_b_proj.weight", [16384, 512], "F8_E4M3", allLayers, 1],
    ["self_attn.kv_b_proj.weight_scale_inv", [128, 4], "F32", allLayers, 1],
    ["self_attn.o_proj.weight", [7168, 8192], "F8_E4M3", allLayers, 1],
    ["self_attn.o_proj.weight_scale_inv", [56, 64], "F32", allLayers, 1],
    ["self_attn.q_a_layernorm.weight", [1536], "BF16", allLayers, 1],
    ["self_attn.q_a_proj.weight", [1536, 7168], "F8_E4M3", allLayers, 1],
    ["self_attn.q_a_proj.weight_scale_inv", [12, 56], "F32", allLayers, 1],
    ["self_attn.q_b_proj.weight", [12288, 1536], "F8_E4M3", allLayers, 1],
    ["self_attn.q_b_proj.weight_scale_inv", [96, 12], "F32", allLayers, 1],
    ["self_attn.rotary_emb.inv_freq", [56], "BF16", allLayers, 1],
    ["mlp.down_proj.weight", [7168, 18432], "F8_E4M3", [0], 1],
    ["mlp.down_proj.weight_scale_inv", [56, 144], "F32", [0], 1],
    ["mlp.gate_proj.weight", [18432, 7168], "F8_E4M3", [0], 1],
    ["mlp.gate_proj.weight_scale_inv", [144, 56], "F32", [0], 1],
    ["mlp.up_proj.weight", [18432, 7168], "F8_E4M3", [0], 1],
    ["mlp.up_proj.weight_scale_inv", [144, 56], "F32", [0], 1],
    ["mlp.experts.{e}.down_proj.weight", [7168, 2048], "F8_E4M3", moeLayers, 384],
    ["mlp.experts.{e}.down_proj.weight_scale_inv", [56, 16], "F32", moeLayers, 384],
    ["mlp.experts.{e}.gate_proj.weight", [2048, 7168], "F8_E4M3", moeLayers, 384],
    ["mlp.experts.{e}.gate_proj.weight_scale_inv", [16, 56], "F32", moeLayers, 384],
    ["mlp.experts.{e}.up_proj.weight", [2048, 7168], "F8_E4M3", moeLayers, 384],
    ["mlp.experts.{e}.up_proj.weight_scale_inv", [16, 56], "F32", moeLayers, 384],
    ["mlp.gate.e_score_correction_bias", [384], "F32", moeLayers, 1],
    ["mlp.gate.weight", [384, 7168], "BF16", moeLayers, 1],
    ["mlp.shared_experts.down_proj.weight", [7168, 2048], "F8_E4M3", moeLayers, 1],
    ["mlp.shared_experts.down_proj.weight_scale_inv", [56, 16], "F32", moeLayers, 1],
    ["mlp.shared_experts.gate_proj.weight", [2048, 7168], "F8_E4M3", moeLayers, 1],
    ["mlp.shared_experts.gate_proj.weight_scale_inv", [16, 56], "F32", moeLayers, 1],
    ["mlp.shared_experts.up_proj.weight", [2048, 7168], "F8_E4M3", moeLayers, 1],
    ["mlp.shared_experts.up_proj.weight_scale_inv", [16, 56], "F32", moeLayers, 1],
  ];
  const tensors: TensorEntry[] = [];
  for (const [name, shape, dtype, layers, copies] of rows) {
    const bytes = shape.reduce((product, dim) => product * dim, 1) * (width[dtype] ?? 0);
    if (layers.length === 0) {
      tensors.push({ name, dtype, shape, bytes });
      continue;
    }
    for (const layer of layers) {
      for (let expert = 0; expert < copies; expert += 1) tensors.push({ name: `model.layers.${layer}.${name.replace("{e}", String(expert))}`, dtype, shape, bytes });
    }
  }
  return { files: [{ path: "model.safetensors", tensors }] };
}

