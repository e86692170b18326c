import { describe, expect, it } from "vitest";
import { isVramplanError } from "../../src/errors.js";
import { planTrainLoaded, type TrainRequest } from "../../src/train.js";
import type { Offload } from "../../src/train/model-states.js";
import { sharedObservations } from "../support/realworld.js";
import { trainRequest } from "../support/train-request.js";

/*
 * DeepSpeed's own estimator, estimate_zero3_model_states_mem_needs_all_live, run on 1 node of 4 GPUs
 * for Llama-2 (../shared/realworld C09, C10; "GB" there is 2^30 bytes, printed to two decimals).
 * The configs are Llama-2's published config.json values (meta-llama/Llama-2-7b-hf, -13b-hf).
 */
const llama2 = (hidden: number, intermediate: number, layers: number) => ({
  model_type: "llama",
  architectures: ["LlamaForCausalLM"],
  hidden_size: hidden,
  intermediate_size: intermediate,
  num_hidden_layers: layers,
  num_attention_heads: hidden / 128,
  num_key_value_heads: hidden / 128,
  vocab_size: 32000,
  max_position_embeddings: 4096,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: false,
  torch_dtype: "float16",
});

// Full fine-tune, mixed bf16, AdamW, ZeRO 3 on 4 GPUs: the model states the estimator sizes.
const request = (offload: Offload): TrainRequest => trainRequest({ gpus: 4, zero: 3, offload, checkpointing: "full" });

const plan = (config: Record<string, unknown>, offload: Offload) =>
  planTrainLoaded({ id: "meta-llama/Llama-2", revision: "main", commit: undefined, configSource: "builtin", config, manifest: undefined, manifestSource: undefined, notes: [] }, request(offload), null);

const GIB = 2 ** 30;
const printed = (bytes: number) => Math.round((bytes / GIB) * 100) / 100;

const cases = [
  { id: "C09", config: llama2(4096, 11008, 32), parameters: 6_738_415_616, largest: 131_072_000, perGpu: { none: 28.73, optimizer: 3.63, all: 0.49 } },
  { id: "C10", config: llama2(5120, 13824, 40), parameters: 13_015_864_320, largest: 163_840_000, perGpu: { none: 55.16, optimizer: 6.67, all: 0.61 } },
] as const;

describe("DeepSpeed ZeRO 3 model states per GPU, as DeepSpeed's estimator prints them (C09, C10)", () => {
  for (const entry of cases) {
    it(`${entry.id}: ${entry.parameters.toLocaleString("en-US")} parameters on 4 GPUs: no offload, offload_optimizer, and both`, () => {
      for (const offload of ["none", "optimizer", "all"] as const) {
        const report = plan(entry.config, offload);
        expect(report.parameters.total).toBe(entry.parameters);
        // Worked by hand: 18 B × P / 4 on the GPU without offload, 2 B × P / 4 with the optimizer
        // offloaded, nothing sharded with both; plus 4 B × the largest module (the embedding, V × h).
        const sharded = { none: 18, optimizer: 2, all: 0 }[offload];
        expect(report.modelStates.bytes).toBe((sharded * entry.parameters) / 4 + 4 * entry.largest);
        expect([offload, printed(report.modelStates.bytes)]).toEqual([offload, entry.perGpu[offload]]);
      }
    });
  }

  it("the logged figures are ../shared's when it is beside the checkout", () => {
    const observations = sharedObservations();
    if (!observations) return;
    const c09 = observations.find((entry) => entry.id === "C09")?.reported as { "per GPU": Record<string, string>; "largest layer params": string };
    expect(c09["per GPU"]["no offload"]).toBe("28.73GB");
    expect(c09["per GPU"]["offload_param=none, offload_optimizer=cpu"]).toBe("3.63GB");
    expect(c09["per GPU"]["offload_param=cpu, offload_optimizer=cpu"]).toBe("0.49GB");
    expect(c09["largest layer params"]).toBe("131M");
    const c10 = observations.find((entry) => entry.id === "C10")?.reported as { "per GPU": Record<string, string> };
    expect(c10["per GPU"]).toEqual({ "offload both": "0.61GB", "offload optimizer": "6.67GB", "no offload": "55.16GB" });
  });

  it("FSDP keeps its fp32 shards as the master: 16 B per parameter over the GPUs, no fp32 gradient partitions", () => {
    const report = planTrainLoaded(
      { id: "meta-llama/Llama-2", revision: "main", commit: undefined, configSource: "builtin", config: llama2(4096, 11008, 32), manifest: undefined, manifestSource: undefined, notes: [] },
      { ...request("none"), fsdp: true },
      null,
    );
    expect(report.modelStates.bytes).toBe((16 * 6_738_415_616) / 4);
  });

  it("offloading without sharded states, or parameters without ZeRO 3, is refused with the fix", () => {
    const config = llama2(4096, 11008, 32);
    const refusal = (changes: Partial<TrainRequest>) => {
      try {
        planTrainLoaded({ id: "m", revision: "main", commit: undefined, configSource: "builtin", config, manifest: undefined, manifestSource: undefined, notes: [] }, { ...request("none"), ...changes }, null);
      } catch (error) {
        expect(isVramplanError(error)).toBe(true);
        return (error as Error).message;
      }
      return null;
    };
    expect(refusal({ zero: 0, offload: "optimizer" })).toMatch(/offloading needs sharded states: add `zero` 1, 2 or 3/);
    expect(refusal({ zero: 2, offload: "all" })).toMatch(/only under ZeRO 3/);
    expect(refusal({ fsdp: true, offload: "optimizer" })).toMatch(/FSDP's CPUOffload/);
  });
});
