import { MalformedFileError } from "../errors.js";
import { parseJsonFile } from "../util/json-position.js";

/**
 * A diffusers pipeline as its model_index.json describes it: `_class_name`, and one entry per
 * component, `"name": [library, class]` (a subfolder of the repo of that name). Only components
 * with weights are planned; schedulers, tokenizers and image processors hold none.
 */
export const MODEL_INDEX_FILE = "model_index.json";

export type ComponentRole = "denoiser" | "text encoder" | "autoencoder" | "image encoder" | "other";

export interface PipelineComponent {
  /** The subfolder: "transformer", "text_encoder_2", "vae". */
  name: string;
  library: string;
  className: string;
  role: ComponentRole;
  /** The safetensors file names diffusers and transformers save in that subfolder, single then sharded. */
  weightFiles: [single: string, index: string];
}

export interface PipelineIndex {
  className: string;
  diffusersVersion: string | null;
  components: PipelineComponent[];
}

/** Classes with no weights: they configure or tokenize. */
const WEIGHTLESS = /Scheduler|Tokenizer|Processor|FeatureExtractor|ImageProcessor/;

function roleOf(name: string, className: string): ComponentRole {
  if (name === "transformer" || name === "unet" || name.startsWith("transformer_") || name.startsWith("unet_") || /Transformer2DModel|UNet2DConditionModel|Transformer3DModel/.test(className)) return "denoiser";
  if (name.startsWith("text_encoder")) return "text encoder";
  if (name === "vae" || className.startsWith("Autoencoder")) return "autoencoder";
  if (name.startsWith("image_encoder")) return "image encoder";
  return "other";
}

export function parsePipelineIndex(text: string, source: string): PipelineIndex {
  const raw = parseJsonFile(text, source);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new MalformedFileError(source, "is not a JSON object");
  const entries = raw as Record<string, unknown>;
  const className = entries["_class_name"];
  if (typeof className !== "string" || className === "") throw new MalformedFileError(source, "has no _class_name: not a diffusers pipeline");
  const components: PipelineComponent[] = [];
  for (const [name, value] of Object.entries(entries)) {
    if (name.startsWith("_")) continue;
    // [null, null] marks an optional component this pipeline leaves out.
    if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== "string" || typeof value[1] !== "string") continue;
    const [library, componentClass] = value as [string, string];
    if (WEIGHTLESS.test(componentClass)) continue;
    // A component name becomes a path: only a plain folder name.
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name) || name.includes("..")) throw new MalformedFileError(source, `names a component "${name}" that is not a plain folder name`);
    const base = library === "transformers" ? "model" : "diffusion_pytorch_model";
    components.push({ name, library, className: componentClass, role: roleOf(name, componentClass), weightFiles: [`${name}/${base}.safetensors`, `${name}/${base}.safetensors.index.json`] });
  }
  const version = entries["_diffusers_version"];
  return { className, diffusersVersion: typeof version === "string" ? version : null, components };
}
