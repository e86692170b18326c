import { withOptionNames } from "../errors.js";
/**
 * GPU memory as the engines see it. A card sold as "80GB" is not 80 GiB to CUDA: the driver keeps
 * part of it, so `torch.cuda.mem_get_info()` (what vLLM multiplies by gpu_memory_utilization) and
 * PyTorch's "GPU 0 has a total capacity of …" report less. The figures below are those totals,
 * each from a public log that printed it; a SKU missing here is planned at its nominal size with a
 * warning that says so and how to pass `--gpu-memory`.
 */

export interface DeviceMemory {
  /** What CUDA (or Metal, or ROCm) reports as the device's total. */
  bytes: number;
  /** "reported": from a public log of that SKU; "nominal": the catalog size, not checked; "override": --gpu-memory. */
  basis: "reported" | "nominal" | "override";
  /** Where the figure comes from, for --explain. */
  source: string;
  /** Unified memory (DGX Spark, Apple): the GPU shares it with the CPU and the OS. */
  unified: string | null;
}

const GIB = 2 ** 30;

interface ReportedTotal {
  gib: number;
  source: string;
}

/** Keyed "<@huggingface/tasks catalog name> <size in GB>". */
const REPORTED_TOTALS: Readonly<Record<string, ReportedTotal>> = {
  "H100 80": { gib: 79.18, source: 'vLLM start-up logs on 1× H100 80GB HBM3: "79.18 GiB total, 78.57 GiB free" ("vLLM Empirical Test Results Analysis")' },
  "H200 141": { gib: 139.81, source: 'vLLM log on H200: "Free memory on device (139.21/139.81 GiB) on startup"' },
  "B200 192": { gib: 178.35, source: 'PyTorch OOM on 8× B200: "GPU 4 has a total capacity of 178.35 GiB"' },
  "A100 80": { gib: 79.15, source: 'vLLM V0 log on A100 80GB: "Memory profiling results: total_gpu_memory=79.15GiB"' },
  "A100 40": { gib: 39.56, source: 'PyTorch OOM on an A100 40GB: "GPU 0 has a total capacity of 39.56 GiB"' },
  "L40s 48": { gib: 44.42, source: "vLLM log on L40S 46 GB (g6e.12xlarge): 44.42 GiB total" },
  "L4 24": { gib: 22.03, source: 'NVIDIA L4: "22.03 GiB visible to PyTorch, 23.66 GB nameplate" (OOM "total capacity of 22.03 GiB")' },
  "A10 24": { gib: 22.06, source: 'A10G (g5): PyTorch OOM "GPU 0 has a total capacity of 22.06 GiB"' },
  "RTX 3090 24": { gib: 23.58, source: 'vLLM V0 log on RTX 3090: "total_gpu_memory=23.58GiB" (vLLM issue #10517)' },
  "RTX 4090 24": { gib: 23.64, source: 'PyTorch OOM on a 24 GB RTX 4090: "GPU 0 has a total capacity of 23.64 GiB"' },
  "RTX 4080 16": { gib: 15.99, source: "vLLM 0.26 log on RTX 4080 16 GB: 15.99 GiB total, 14.69 GiB free" },
  "RTX 5090 32": { gib: 31.36, source: 'RTX 5090: PyTorch OOM "GPU 0 has a total capacity of 31.36 GiB"' },
  "T4 16": { gib: 14.74, source: 'Colab T4: PyTorch OOM "GPU 0 has a total capacity of 14.74 GiB"' },
  "MI300 192": { gib: 191.6875, source: "MI300X: rocm-smi reports 205,822,885,888 B, 192 GiB less 320 MiB held back" },
  "GB10 128": {
    gib: 121.63,
    source: 'DGX Spark (GB10) vLLM log: "Free memory on device (112.77/121.63 GiB) on startup"',
  },
};

/**
 * What an engine sees as the total memory of one GPU. `overrideBytes` (the caller's figure) wins; then a
 * reported total; then the nominal size, marked so.
 */
export function deviceMemory(gpu: { name: string; vendor: string; memoryGiB: number; bytes: number }, overrideBytes?: number): DeviceMemory {
  const unified = unifiedMemoryNote(gpu);
  if (overrideBytes !== undefined) return { bytes: overrideBytes, basis: "override", source: withOptionNames("given as {gpuMemoryBytes}"), unified };
  const reported = REPORTED_TOTALS[`${gpu.name} ${gpu.memoryGiB}`];
  if (reported) return { bytes: Math.round(reported.gib * GIB), basis: "reported", source: reported.source, unified };
  if (gpu.vendor === "Apple") {
    // Metal lets the GPU wire recommendedMaxWorkingSetSize of the unified memory: 2/3 of it up to
    // 36 GB, 3/4 above (llama.cpp prints it: 10922.67 MB on 16 GB, 49152.00 MB on 64 GB).
    const share = gpu.memoryGiB <= 36 ? 2 / 3 : 3 / 4;
    return {
      bytes: Math.round(gpu.memoryGiB * GIB * share),
      basis: "reported",
      source: `Metal recommendedMaxWorkingSetSize: ${share === 3 / 4 ? "3/4" : "2/3"} of ${gpu.memoryGiB} GB unified memory (llama.cpp ggml_metal_init log)`,
      unified,
    };
  }
  return {
    bytes: gpu.bytes,
    basis: "nominal",
    source: withOptionNames(`no reported total for the ${gpu.name} ${gpu.memoryGiB} GB: assumed the full ${gpu.memoryGiB} GiB (drivers keep 0.3–1 GiB); pass {gpuMemoryBytes} with what nvidia-smi or torch.cuda.mem_get_info() reports`),
    unified,
  };
}

function unifiedMemoryNote(gpu: { name: string; vendor: string; memoryGiB: number }): string | null {
  if (gpu.vendor === "Apple") {
    return `unified memory: the ${gpu.memoryGiB} GB are shared with macOS and every app; Metal lets the GPU wire at most recommendedMaxWorkingSetSize of it (raise it with sysctl iogpu.wired_limit_mb)`;
  }
  if (gpu.name === "GB10") {
    return "unified memory: CUDA reports the system's LPDDR5X less what the OS holds back, and vLLM's gpu_memory_utilization takes its share of that; the OS, page cache and other processes draw from the same pool";
  }
  return null;
}
