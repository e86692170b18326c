/**
 * CUDA compute capability (major × 10 + minor) of the NVIDIA GPUs in the catalog, from NVIDIA's
 * "CUDA GPUs" table. Engines pick kernels, and so memory layouts, by it: vLLM's MXFP4 MoE backend
 * (mxfp4.py get_mxfp4_backend) and its quantization methods' minimum capability.
 * The catalog (@huggingface/tasks) names GPUs but gives no architecture, hence this table.
 */
const COMPUTE_CAPABILITY: ReadonlyArray<readonly [RegExp, number]> = [
  [/^GB10$/, 121],
  [/^B300$/, 103],
  [/^(B200|B100|GB200)$/, 100],
  // Blackwell workstation and GeForce parts; "RTX 6000 Ada" is matched below, not here.
  [/^RTX (50\d0|PRO \d000)/, 120],
  [/^(H100|H200|H800|H20|GH200)$/, 90],
  [/ Ada( |$)|^RTX 40\d0|^L40s?$|^L20$|^L4$/, 89],
  [/^Jetson (AGX )?Orin|^Jetson Orin/, 87],
  [/^RTX A\d000|^A40$|^A10$|^A2$|^RTX 30\d0/, 86],
  [/^(A100|A800|A30)$/, 80],
  [/^RTX 20\d0|^T4$|^T10$|^RTX Titan$|^GTX 16\d0/, 75],
  [/Xavier/, 72],
  [/^V100$/, 70],
  [/^Jetson TX2$/, 62],
  [/^(GTX 10\d0|P40$|Quadro P6000$)/, 61],
  [/^P100$/, 60],
  [/^Jetson Nano$/, 53],
];

/** The compute capability of an NVIDIA GPU by its catalog name (70 for V100, 90 for H100), or null when unknown or not NVIDIA. */
export function computeCapability(gpuName: string, vendor: string): number | null {
  if (vendor.toUpperCase() !== "NVIDIA") return null;
  for (const [pattern, capability] of COMPUTE_CAPABILITY) if (pattern.test(gpuName)) return capability;
  return null;
}

/** "9.0" for 90. */
export const formatCapability = (capability: number) => `${Math.floor(capability / 10)}.${capability % 10}`;
