import type { TrainRequest } from "../../src/train.js";

/** A training request with the CLI's defaults (full fine-tune, mixed bf16, AdamW, 4,096 tokens, one GPU), changed where a test says. */
export const trainRequest = (overrides: Partial<TrainRequest> = {}): TrainRequest => ({
  method: "full",
  precision: "mixed-bf16",
  optimizer: "adamw",
  seq: 4096,
  microBatch: 1,
  gradAccum: 1,
  gpus: 1,
  zero: 0,
  flashAttention: true,
  checkpointing: "none",
  loss: "naive",
  loraRank: 16,
  loraTargets: ["all-linear"],
  ...overrides,
});
