import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isVramplanError } from "../../src/errors.js";
import { planRepo } from "../../src/plan-repo.js";
import { planTrain } from "../../src/train.js";
import { renderPipelineHtml } from "../../src/report/plan-html.js";
import { startHttpHub, type RunningHub } from "../support/http-hub.js";
import { MockHub, VirtualSafetensors, type MockTensor } from "../support/mock-hub.js";
import { placeInHfCache } from "../support/hf-cache.js";
import { runCliCaptured } from "../support/run-cli.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";

/*
 * A diffusers pipeline (model_index.json and a folder per component) over a loopback Hub: a small
 * FLUX-shaped repo whose every tensor is below, so each figure is worked by hand here.
 */
const tensor = (name: string, dtype: string, shape: number[]): MockTensor => {
  const width = { BF16: 2, F16: 2, F32: 4 }[dtype] as number;
  return { name, dtype, shape, bytes: shape.reduce((a, b) => a * b, 1) * width };
};

// transformer, in two shards: 3072×64 + 64×3072 + 64 BF16 values, 2 B each.
const TRANSFORMER = { parameters: 3072 * 64 + 64 * 3072 + 64, bytes: (3072 * 64 + 64 * 3072 + 64) * 2 }; // 393,280 parameters, 786,560 B
const CLIP = { parameters: 49408 * 768, bytes: 49408 * 768 * 2 }; // 37,945,344 parameters, 75,890,688 B
const T5 = { parameters: 32128 * 4096, bytes: 32128 * 4096 * 2 }; // 131,596,288 parameters, 263,192,576 B
const VAE = { parameters: 512 * 16 * 3 * 3, bytes: 512 * 16 * 3 * 3 * 4 }; // 73,728 parameters in F32, 294,912 B
const TOTAL_BYTES = TRANSFORMER.bytes + CLIP.bytes + T5.bytes + VAE.bytes; // 340,164,736

const MODEL_INDEX = {
  _class_name: "FluxPipeline",
  _diffusers_version: "0.30.0.dev0",
  scheduler: ["diffusers", "FlowMatchEulerDiscreteScheduler"],
  text_encoder: ["transformers", "CLIPTextModel"],
  text_encoder_2: ["transformers", "T5EncoderModel"],
  tokenizer: ["transformers", "CLIPTokenizer"],
  tokenizer_2: ["transformers", "T5TokenizerFast"],
  transformer: ["diffusers", "FluxTransformer2DModel"],
  vae: ["diffusers", "AutoencoderKL"],
  safety_checker: ["stable_diffusion", "StableDiffusionSafetyChecker"],
  feature_extractor: [null, null],
};

const SHARD_1 = "transformer/diffusion_pytorch_model-00001-of-00002.safetensors";
const SHARD_2 = "transformer/diffusion_pytorch_model-00002-of-00002.safetensors";

const hub = new MockHub({
  models: {
    "acme/tiny-flux": {
      files: [
        { path: SHARD_1, tensors: [tensor("x_embedder.weight", "BF16", [3072, 64])] },
        { path: SHARD_2, tensors: [tensor("proj_out.weight", "BF16", [64, 3072]), tensor("proj_out.bias", "BF16", [64])] },
        { path: "text_encoder/model.safetensors", tensors: [tensor("text_model.embeddings.token_embedding.weight", "BF16", [49408, 768])] },
        { path: "text_encoder_2/model.safetensors", tensors: [tensor("shared.weight", "BF16", [32128, 4096])] },
        { path: "vae/diffusion_pytorch_model.safetensors", tensors: [tensor("decoder.conv_in.weight", "F32", [512, 16, 3, 3])] },
      ],
      extra: {
        "model_index.json": JSON.stringify(MODEL_INDEX),
        "transformer/diffusion_pytorch_model.safetensors.index.json": JSON.stringify({
          metadata: { total_size: TRANSFORMER.bytes },
          weight_map: { "x_embedder.weight": SHARD_1.split("/")[1], "proj_out.weight": SHARD_2.split("/")[1], "proj_out.bias": SHARD_2.split("/")[1] },
        }),
        "safety_checker/pytorch_model.bin": "not read",
      },
    },
    "acme/escaping-pipeline": { extra: { "model_index.json": JSON.stringify({ _class_name: "FluxPipeline", "../../etc": ["diffusers", "AutoencoderKL"] }) } },
  },
});
let running: RunningHub;
let settings: TempSettings;
let home: string;
const env = () => ({ HF_ENDPOINT: running.endpoint, HF_HOME: join(home, "hf"), VRAMPLAN_CACHE: join(home, "vp"), HOME: home, COLUMNS: "200" });

beforeAll(async () => {
  running = await startHttpHub(hub);
  settings = await tempSettings({ endpoint: running.endpoint, transport: undefined });
  home = await mkdtemp(join(tmpdir(), "vramplan-diffusers-"));
});
afterAll(async () => {
  await running.close();
  await settings.cleanup();
  await rm(home, { recursive: true, force: true });
});

describe("a diffusers pipeline", () => {
  it("is planned per component from its own headers, weightless and .bin-only components set apart (library)", async () => {
    const result = await planRepo("acme/tiny-flux", { hub: settings });
    if (result.kind !== "diffusers") throw new Error(`planned as ${result.kind}`);
    const plan = result.plan;
    expect(plan.model.pipeline).toBe("FluxPipeline");
    expect(plan.components.map((c) => [c.name, c.role, c.parameters, c.bytes, c.commonlyOffloaded])).toEqual([
      ["text_encoder", "text encoder", CLIP.parameters, CLIP.bytes, true],
      ["text_encoder_2", "text encoder", T5.parameters, T5.bytes, true],
      ["transformer", "denoiser", TRANSFORMER.parameters, TRANSFORMER.bytes, false],
      ["vae", "autoencoder", VAE.parameters, VAE.bytes, false],
    ]);
    expect(plan.components.find((c) => c.name === "transformer")?.files).toBe(2);
    expect(plan.total.bytes).toBe(340_164_736);
    expect(plan.total.bytes).toBe(TOTAL_BYTES);
    expect(plan.withoutSafetensors).toEqual(["safety_checker"]);
    expect(plan.warnings).toEqual(["safety_checker: no safetensors weights in its folder, left out of the total"]);
  });

  it("against a GPU: all resident, text encoders freed, or one component at a time", async () => {
    // 300,000,000 B cannot hold the whole pipeline (340,164,736 B); without the text encoders, or one component at a time, it can.
    const result = await planRepo("acme/tiny-flux", { hub: settings, serving: { gpuMemoryBytes: 300_000_000 } });
    if (result.kind !== "diffusers" || !result.plan.gpu) throw new Error("no GPU verdict");
    const { allOnGpu, withoutTextEncoders, modelCpuOffload } = result.plan.gpu;
    expect([allOnGpu.bytes, allOnGpu.fits]).toEqual([TOTAL_BYTES, false]);
    expect([withoutTextEncoders.bytes, withoutTextEncoders.fits]).toEqual([TRANSFORMER.bytes + VAE.bytes, true]);
    expect([modelCpuOffload.component, modelCpuOffload.bytes, modelCpuOffload.fits]).toEqual(["text_encoder_2", T5.bytes, true]);
    // The web page says the same: it fits once the encoders leave the GPU.
    const page = renderPipelineHtml(result.plan, { words: (text) => text }).markup;
    expect(page).toMatch(/<p id="verdict" class="verdict fits" role="status">Fits with offloading: free the text encoders after encoding the prompt, or use enable_model_cpu_offload/);
    expect(page).toContain("<td class=\"num\">263,192,576</td>");
  });

  it("goes through plan, batch (kind diffusers) and cache prefetch, then plans offline from the cache", async () => {
    const planned = await runCliCaptured(["plan", "acme/tiny-flux"], env());
    expect(planned.code).toBe(0);
    expect(planned.stdout).toMatch(/diffusers FluxPipeline \(saved by diffusers 0\.30\.0\.dev0\)/);
    expect(planned.stdout).toMatch(/text_encoder_2 +T5EncoderModel +text encoder \* +131,596,288 +263,192,576/);
    expect(planned.stdout).toMatch(/total +170,008,640 +340,164,736/);

    const batch = await runCliCaptured(["batch", "-", "--format", "csv"], env(), { stdin: "acme/tiny-flux\nQwen/Qwen2.5-0.5B\n" });
    const [header, pipelineRow] = batch.stdout.trim().split("\n");
    const columns = (header ?? "").split(",");
    const cell = (name: string) => (pipelineRow ?? "").split(",")[columns.indexOf(name)];
    expect([cell("kind"), cell("model_type"), cell("total_bytes"), cell("kv_cache_bytes")]).toEqual(["diffusers", "FluxPipeline", String(TOTAL_BYTES), "0"]);

    const fresh = { ...env(), HF_HOME: join(home, "hf2"), VRAMPLAN_CACHE: join(home, "vp2") };
    const prefetch = await runCliCaptured(["cache", "prefetch", "acme/tiny-flux"], fresh);
    expect([prefetch.code, prefetch.stdout]).toEqual([0, expect.stringMatching(/^fetched 1, failed 0 of 1 model/)]);
    const before = hub.log.length;
    const offline = await runCliCaptured(["plan", "acme/tiny-flux", "--json"], { ...fresh, HF_HUB_OFFLINE: "1" });
    expect(offline.code).toBe(0);
    expect(hub.log.length).toBe(before);
    const json = JSON.parse(offline.stdout) as { schema: string; model: { source: string }; total: { bytes: number } };
    expect([json.schema, json.model.source, json.total.bytes]).toEqual(["vramplan.diffusers-plan/1", "hf-cache", TOTAL_BYTES]);
  });

  it("is refused by train with the reason, and a component name cannot leave the repo", async () => {
    const request = { precision: "mixed-bf16", optimizer: "adamw", seq: 4096, microBatch: 1, gradAccum: 1, gpus: 1, zero: 0, flashAttention: true, checkpointing: "none", loss: "naive", loraRank: 16, loraTargets: ["all-linear"], method: "lora" } as const;
    const train = await planTrain("acme/tiny-flux", { ...request, loraTargets: [...request.loraTargets] }, settings).catch((caught: unknown) => caught);
    expect(isVramplanError(train) && train.code).toBe("unsupported");
    expect((train as Error).message).toMatch(/^acme\/tiny-flux is a diffusers pipeline \(FluxPipeline\): training plans are for language models/);
    const escaping = await planRepo("acme/escaping-pipeline", { hub: settings }).catch((caught: unknown) => caught);
    expect(isVramplanError(escaping) && escaping.code).toBe("malformed");
    expect((escaping as Error).message).toMatch(/names a component "\.\.\/\.\.\/etc" that is not a plain folder name/);
  });

  it("plans offline from a pipeline `huggingface-cli download` put in the HF cache, component files and all", async () => {
    const offline = await tempSettings({ offline: true });
    try {
      // Whole safetensors files, small enough to write: each tensor 4 × 4 in BF16 (32 B).
      const file = (names: string[]) => {
        const virtual = new VirtualSafetensors(names.map((name) => tensor(name, "BF16", [4, 4])));
        return virtual.read(0, virtual.size - 1);
      };
      const commit = "1111111111111111111111111111111111111111";
      await placeInHfCache(offline.hfCacheDir, "acme/downloaded-pipeline", commit, {
        "model_index.json": JSON.stringify({ _class_name: "StableDiffusionPipeline", unet: ["diffusers", "UNet2DConditionModel"], vae: ["diffusers", "AutoencoderKL"], text_encoder: ["transformers", "CLIPTextModel"], scheduler: ["diffusers", "PNDMScheduler"] }),
        "unet/diffusion_pytorch_model.safetensors": file(["conv_in.weight", "conv_out.weight"]),
        "vae/diffusion_pytorch_model.safetensors": file(["decoder.conv_in.weight"]),
        "text_encoder/model.safetensors": file(["text_model.embeddings.token_embedding.weight"]),
      });
      const result = await planRepo("acme/downloaded-pipeline", { hub: offline });
      if (result.kind !== "diffusers") throw new Error(`planned as ${result.kind}`);
      // 4 tensors of 16 values, 2 B each.
      expect(result.plan.components.map((component) => [component.name, component.bytes])).toEqual([["unet", 64], ["vae", 32], ["text_encoder", 32]]);
      expect([result.plan.total.bytes, result.plan.model.source]).toEqual([128, "hf-cache"]);
    } finally {
      await offline.cleanup();
    }
  });
});
