import { afterAll, afterEach, describe, expect, it } from "vitest";
import { plan } from "../../src/plan.js";
import { MockHub, type MockTensor } from "../support/mock-hub.js";
import { startMswHub } from "../support/msw-hub.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";

const hub = new MockHub({ fixturesRoot: false });
const server = startMswHub(hub);
afterAll(() => server.close());
let settings: TempSettings;
afterEach(async () => settings?.cleanup());

/*
 * An mlx-community style checkpoint (mlx-lm convert -q): every Linear and the embedding stored as
 * `weight` U32 [out, in × bits / 32] (32 / bits values per element), with BF16 `scales` and `biases`
 * [out, in / group_size]; norms and the q/k/v projection biases stay BF16. This one is a mixed
 * recipe: 4 bits with groups of 64, but down_proj at 8 bits (its own entry in "quantization").
 */
const CONFIG = {
  architectures: ["Qwen2ForCausalLM"],
  model_type: "qwen2",
  hidden_size: 128,
  intermediate_size: 256,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  vocab_size: 512,
  max_position_embeddings: 4096,
  tie_word_embeddings: true,
  torch_dtype: "bfloat16",
  quantization: { group_size: 64, bits: 4, "model.layers.0.mlp.down_proj": { group_size: 64, bits: 8 } },
};

function quantized(name: string, out: number, inner: number, bits: number): MockTensor[] {
  return [
    { name: `${name}.weight`, dtype: "U32", shape: [out, (inner * bits) / 32], bytes: out * inner * (bits / 8) },
    { name: `${name}.scales`, dtype: "BF16", shape: [out, inner / 64], bytes: out * (inner / 64) * 2 },
    { name: `${name}.biases`, dtype: "BF16", shape: [out, inner / 64], bytes: out * (inner / 64) * 2 },
  ];
}
const bf16 = (name: string, shape: number[]): MockTensor => ({ name, dtype: "BF16", shape, bytes: shape.reduce((a, b) => a * b, 1) * 2 });

const TENSORS: MockTensor[] = [
  ...quantized("model.embed_tokens", 512, 128, 4),
  bf16("model.layers.0.input_layernorm.weight", [128]),
  ...quantized("model.layers.0.self_attn.q_proj", 128, 128, 4),
  bf16("model.layers.0.self_attn.q_proj.bias", [128]),
  ...quantized("model.layers.0.self_attn.k_proj", 64, 128, 4),
  bf16("model.layers.0.self_attn.k_proj.bias", [64]),
  ...quantized("model.layers.0.self_attn.v_proj", 64, 128, 4),
  bf16("model.layers.0.self_attn.v_proj.bias", [64]),
  ...quantized("model.layers.0.self_attn.o_proj", 128, 128, 4),
  bf16("model.layers.0.post_attention_layernorm.weight", [128]),
  ...quantized("model.layers.0.mlp.gate_proj", 256, 128, 4),
  ...quantized("model.layers.0.mlp.up_proj", 256, 128, 4),
  ...quantized("model.layers.0.mlp.down_proj", 128, 256, 8),
  bf16("model.norm.weight", [128]),
];

describe("MLX quantized checkpoints", () => {
  it("count logical parameters through the packing, with per-module bits; bytes are the headers' own", async () => {
    hub.setModel("mlx-community/tiny-qwen2-4bit-mixed", { config: CONFIG, files: [{ path: "model.safetensors", tensors: TENSORS }] });
    settings = await tempSettings();
    const result = await plan("mlx-community/tiny-qwen2-4bit-mixed", { context: 1024, hub: settings });
    // Unquantized, the model has: embedding 512 × 128 = 65,536; q 128 × 128 + 128 bias; k and v 64 × 128 + 64 each;
    // o 128 × 128; gate and up 256 × 128 each; down 128 × 256; three norms of 128. Total 213,632.
    const expected = 65_536 + (16_384 + 128) + 2 * (8_192 + 64) + 16_384 + 3 * 32_768 + 3 * 128;
    expect(result.model.parameters).toBe(expected);
    expect(result.model.quantization).toBe("mlx");
    expect(result.weights.bytes).toBe(TENSORS.reduce((sum, tensor) => sum + tensor.bytes, 0));
    expect(result.warnings.map((warning) => warning.code)).not.toContain("quantized-parameter-count");
  });
});
