import { UsageError } from "../errors.js";

export const ENGINE_NAMES = ["vllm", "sglang", "llama.cpp", "transformers"] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/**
 * What changed in vLLM's start-up memory accounting, release by release. Each profile applies from
 * its version until the next one; `vllm@0.13` is planned with the 0.11 profile and says so.
 */
export interface VllmRelease {
  engine: "vllm";
  version: string;
  /** V0's LLMEngine measures everything outside PyTorch; V1 (default from 0.8) only what grew since its start snapshot. */
  runtime: "v0" | "v1";
  /** How the profile run's sampler warm-up spends memory (vllm/v1/sample/ops/topk_topp_sampler.py). */
  sampler: "torch-sort" | "flashinfer";
  /** CUDA graphs: captured after the KV cache is sized (they must fit the headroom), or an estimate reserved from the KV budget first. */
  cudaGraphs: "headroom" | "reserved";
  /**
   * The same for models with recurrent states, where they differ: Model Runner V2 refused hybrid and
   * Mamba models ("VLLM_USE_V2_MODEL_RUNNER does not yet support: hybrid/mamba models") until vLLM PR
   * #53183 (August 2026), so they kept V1's reserved estimate (a 0.27.1 log of a Qwen3.5 model shows it).
   */
  hybridCudaGraphs: "headroom" | "reserved";
  /** MXFP4 MoE on Hopper: Marlin, or the Triton kernels once the release brings triton_kernels (mxfp4.py get_mxfp4_backend). */
  hopperMxfp4: "marlin" | "triton";
  /**
   * "GPU KV cache size: N tokens": num_blocks // groups × the smallest block (kv_cache_utils.py
   * _report_kv_cache_config, through 0.19), or int(max concurrency × max_model_len), which the
   * 0.24 and 0.28 logs show (vLLM PRs #38364/#40694, for hybrids whose groups do not share blocks evenly).
   */
  tokenReport: "blocks-per-group" | "concurrency";
  /** Whether --kv-cache-memory-bytes exists (gpu_worker.py: profiling skipped, the given size reserved). */
  kvCacheMemoryBytes: boolean;
  /**
   * Hybrids with recurrent states: start-up refuses a max_num_seqs above the blocks of the pool,
   * one state block per decode sequence for CUDA-graph capture (vLLM PR #38270, March 2026).
   */
  stateBlocksCheck: boolean;
  changes: string;
}

export interface SglangRelease {
  engine: "sglang";
  version: string;
  changes: string;
}

export interface LlamaCppRelease {
  engine: "llama.cpp";
  version: string;
  /** Build number the profile applies from. */
  build: number;
  /** Flash attention by default (`-fa auto` turns it on where the backend has it). */
  flashAttention: boolean;
  /** One KV stream shared by all slots, or one per slot (`--kv-unified` off). */
  unifiedKv: boolean;
  changes: string;
}

export interface TransformersRelease {
  engine: "transformers";
  version: string;
  changes: string;
}

export type EngineRelease = VllmRelease | SglangRelease | LlamaCppRelease | TransformersRelease;

export const VLLM_RELEASES: readonly VllmRelease[] = [
  {
    engine: "vllm",
    version: "0.6",
    tokenReport: "blocks-per-group",
    kvCacheMemoryBytes: false,
    stateBlocksCheck: false,
    runtime: "v0",
    sampler: "torch-sort",
    hopperMxfp4: "marlin",
    cudaGraphs: "headroom",
    hybridCudaGraphs: "headroom",
    changes:
      "V0 engine (worker.py determine_num_available_blocks): peak = the profile run's torch peak + every byte outside PyTorch (CUDA context included); without chunked prefill the profile runs max(max_model_len, 2048) tokens",
  },
  {
    engine: "vllm",
    version: "0.8",
    tokenReport: "blocks-per-group",
    kvCacheMemoryBytes: false,
    stateBlocksCheck: false,
    runtime: "v1",
    sampler: "flashinfer",
    hopperMxfp4: "marlin",
    cudaGraphs: "headroom",
    hybridCudaGraphs: "headroom",
    changes: "V1 engine by default: only memory that grew since the start snapshot counts as non-torch; FlashInfer top-k/top-p sampling where it is installed (VLLM_USE_FLASHINFER_SAMPLER unset means on)",
  },
  {
    engine: "vllm",
    version: "0.11",
    tokenReport: "blocks-per-group",
    kvCacheMemoryBytes: true,
    stateBlocksCheck: false,
    runtime: "v1",
    sampler: "torch-sort",
    hopperMxfp4: "triton",
    cudaGraphs: "headroom",
    hybridCudaGraphs: "headroom",
    changes:
      "FlashInfer sampling off unless VLLM_USE_FLASHINFER_SAMPLER=1: the sampler warm-up sorts max_num_seqs × vocab fp32 logits with PyTorch; MXFP4 experts on Hopper through the Triton kernels (a swizzled copy of their scales), where 0.10 loaded them for Marlin",
  },
  {
    engine: "vllm",
    version: "0.19",
    tokenReport: "blocks-per-group",
    kvCacheMemoryBytes: true,
    stateBlocksCheck: true,
    runtime: "v1",
    sampler: "torch-sort",
    hopperMxfp4: "triton",
    cudaGraphs: "headroom",
    hybridCudaGraphs: "headroom",
    changes:
      "Hybrid models (Mamba, gated delta-net, short-conv states): start-up refuses a max_num_seqs above the KV blocks, since each decode sequence needs one state block for CUDA-graph capture (PR #38270; logged from 0.23.1 to 0.28)",
  },
  {
    engine: "vllm",
    version: "0.21",
    tokenReport: "concurrency",
    kvCacheMemoryBytes: true,
    stateBlocksCheck: true,
    runtime: "v1",
    sampler: "torch-sort",
    hopperMxfp4: "triton",
    cudaGraphs: "reserved",
    hybridCudaGraphs: "reserved",
    changes:
      'CUDA graph memory profiling on by default ("default since v0.21.0"): the V1 model runner reserves its CUDA-graph estimate before sizing the KV cache; "GPU KV cache size" is max concurrency × max_model_len (0.19 still divided the blocks evenly over the groups, 0.24 no longer does; the release between is not pinned)',
  },
  {
    engine: "vllm",
    version: "0.25",
    tokenReport: "concurrency",
    kvCacheMemoryBytes: true,
    stateBlocksCheck: true,
    runtime: "v1",
    sampler: "torch-sort",
    hopperMxfp4: "triton",
    cudaGraphs: "headroom",
    hybridCudaGraphs: "reserved",
    changes:
      "Model Runner V2 runs the common decoders by default; its profile_cudagraph_memory() returns 0, so CUDA graphs live in the headroom again (vllm/v1/worker/gpu/model_runner.py)",
  },
];

export const SGLANG_RELEASES: readonly SglangRelease[] = [
  {
    engine: "sglang",
    version: "0.4",
    changes: "mem_fraction_static chosen from GPU memory, chunked-prefill size and CUDA-graph batch size (server_args.py); KV pool = free memory after weights − (1 − mem_fraction_static) × total",
  },
];

export const LLAMA_CPP_RELEASES: readonly LlamaCppRelease[] = [
  {
    engine: "llama.cpp",
    version: "b4000",
    build: 4000,
    flashAttention: false,
    unifiedKv: true,
    changes: "flash attention off unless -fa; one KV cache shared by all --parallel slots",
  },
  {
    engine: "llama.cpp",
    version: "b6325",
    build: 6325,
    flashAttention: true,
    unifiedKv: false,
    changes: "-fa auto (on where the backend supports it); one KV stream per slot unless --kv-unified",
  },
];

export const TRANSFORMERS_RELEASES: readonly TransformersRelease[] = [
  {
    engine: "transformers",
    version: "4.51",
    changes: "generate() with a DynamicCache grown one token at a time; logits kept for the last position only (logits_to_keep=1)",
  },
];

const RELEASES: Readonly<Record<EngineName, readonly EngineRelease[]>> = {
  vllm: VLLM_RELEASES,
  sglang: SGLANG_RELEASES,
  "llama.cpp": LLAMA_CPP_RELEASES,
  transformers: TRANSFORMERS_RELEASES,
};

/** The engine as chosen: its profile, and the version the user named (which may be newer than the profile). */
export interface EngineChoice {
  name: EngineName;
  release: EngineRelease;
  /** What the user asked for, or null for the default (the newest profile). */
  requested: string | null;
}

/**
 * `vllm`, `vllm@0.11`, `llama.cpp@b5935`: the newest profile at or below the version asked for.
 * An unknown engine, or a version older than the oldest profile, is an error listing the known ones.
 */
export function parseEngine(text: string): EngineChoice {
  const [rawName = "", version] = text.trim().split("@", 2) as [string, string | undefined];
  const name = ENGINE_NAMES.find((candidate) => candidate === rawName.toLowerCase());
  if (!name) throw new UsageError(`unknown engine "${rawName}": choose from ${ENGINE_NAMES.join(", ")} (optionally @version, e.g. vllm@0.11)`);
  const releases = RELEASES[name];
  const newest = releases[releases.length - 1] as EngineRelease;
  if (version === undefined || version === "" || version === "latest") return { name, release: newest, requested: null };
  const key = versionKey(name, version);
  const known = releases.map((release) => release.version).join(", ");
  if (key === null) throw new UsageError(`cannot read "${version}" as a ${name} version: known profiles are ${known} (newer versions use the newest profile at or below them)`);
  const release = [...releases].reverse().find((candidate) => compareKeys(versionKey(name, candidate.version) as number[], key) <= 0);
  if (!release) throw new UsageError(`${name}@${version} is older than vramplan's oldest ${name} profile: known profiles are ${known}`);
  return { name, release, requested: version };
}

/** "0.11.2" → [0, 11, 2]; llama.cpp builds "b5935" or "5935" → [5935]. */
function versionKey(engine: EngineName, version: string): number[] | null {
  const text = version.trim().replace(/^v/i, "");
  if (engine === "llama.cpp") {
    const build = /^b?(\d+)$/i.exec(text);
    return build ? [Number(build[1])] : null;
  }
  if (!/^\d+(\.\d+){0,2}([.+-].*)?$/.test(text)) return null;
  return text
    .split(/[+-]/)[0]!
    .split(".")
    .filter((part) => /^\d+$/.test(part))
    .map(Number);
}

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let index = 0; index < Math.max(a.length, b.length); index++) {
    const difference = (a[index] ?? 0) - (b[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * Whether the release planned for is `version` or later: the version asked for, else the profile's
 * (the newest profile when none was asked for, which stands for the latest release).
 */
export function releaseAtLeast(choice: EngineChoice, version: string): boolean {
  const asked = choice.requested === null ? null : versionKey(choice.name, choice.requested);
  const planned = asked ?? versionKey(choice.name, choice.release.version);
  const wanted = versionKey(choice.name, version);
  return planned !== null && wanted !== null && compareKeys(planned, wanted) >= 0;
}

/** A version asked for that is planned with an older profile (vllm@0.13 with the 0.11 one). */
export function plannedWithOlderProfile(choice: EngineChoice): boolean {
  return choice.requested !== null && choice.requested.replace(/^v/i, "") !== choice.release.version;
}

/** "vllm 0.11+ (asked for 0.13)" / "vllm 0.25+ (newest profile)". */
export function describeEngine(choice: EngineChoice): string {
  const base = `${choice.name} ${choice.release.version}${choice.release.engine === "llama.cpp" ? "" : "+"}`;
  if (choice.requested === null) return `${base} (newest profile)`;
  return plannedWithOlderProfile(choice) ? `${base} (asked for ${choice.requested})` : base;
}
