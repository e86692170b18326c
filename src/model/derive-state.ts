import { UnsupportedModelError } from "../errors.js";
import { readPositiveInt, readStringArray, type RawConfig } from "./raw-config.js";
import { nemotronPattern, type FamilyRules } from "./families.js";
import type { LayerCache, SharedMixer } from "./spec.js";

/** Per layer of a hybrid or state-space model: whether it attends, and the state it carries. */
export interface SsmLayer {
  attention: boolean;
  state: Extract<LayerCache, { kind: "state" }> | undefined;
  /** SambaY's second half: a mixer reading another layer's cache. */
  sharedMixer?: SharedMixer;
}

/**
 * Recurrent state per sequence, in elements, as vLLM's MambaStateShapeCalculator sizes it with no
 * tensor parallelism and no speculative tokens (engines.md §1.7):
 *   Mamba-1           conv I × (d_conv − 1)                ssm I × d_state
 *   Mamba-2           conv (I + 2·G·d_state) × (d_conv − 1) ssm H × P × d_state
 *   gated delta-net   conv (2·K_h·K_d + V_h·V_d) × (k − 1)  ssm V_h × V_d × K_d
 */
export function deriveSsmLayers(kind: NonNullable<FamilyRules["ssm"]>, config: RawConfig, numLayers: number, hiddenSize: number): SsmLayer[] {
  const need = (name: string, fallback?: number): number => {
    const value = readPositiveInt(config, [name])?.value ?? fallback;
    if (value === undefined) throw new UnsupportedModelError(`config.json has no ${name}: vramplan needs it to size the ${kind} state`, name);
    return value;
  };
  const flag = (name: string, fallback: boolean): boolean => (typeof config[name] === "boolean" ? (config[name] as boolean) : fallback);
  /**
   * Mamba-1 mixer parameters (modeling_mamba.py MambaMixer; Jamba adds RMSNorms on dt, B and C):
   * in_proj h → 2I, depthwise conv I × d_conv (+ bias), x_proj I → dt_rank + 2·d_state,
   * dt_proj dt_rank → I with bias, A_log I × d_state, D I, out_proj I → h.
   */
  const mamba1 = (inner: number, dState: number, dConv: number, names: { dtRank: string; convBias: string; projBias: string }, jambaNorms: boolean): SsmLayer["state"] => {
    const rankSetting = config[names.dtRank];
    const dtRank = typeof rankSetting === "number" && rankSetting > 0 ? rankSetting : Math.ceil(hiddenSize / 16);
    const projBias = flag(names.projBias, false);
    const mixerParameters =
      hiddenSize * 2 * inner +
      (projBias ? 2 * inner + hiddenSize : 0) +
      inner * dConv +
      (flag(names.convBias, true) ? inner : 0) +
      inner * (dtRank + 2 * dState) +
      dtRank * inner +
      inner +
      inner * dState +
      inner +
      inner * hiddenSize +
      (jambaNorms ? dtRank + 2 * dState : 0);
    return { kind: "state", mixer: "mamba", convElements: inner * (dConv - 1), ssmElements: inner * dState, mixerParameters };
  };
  /**
   * Mamba-2 mixers. Parameters where vramplan knows the module (transformers' Mamba2Mixer and
   * GraniteMoeHybrid's): in_proj h → 2I + 2·G·N + H, a depthwise conv over I + 2·G·N channels,
   * dt_bias, A_log and D per head, a gated RMSNorm over I, out_proj I → h. Falcon-H1's mixer
   * differs (its own norm switch and parallel attention), so its parameters come from the headers.
   */
  const mamba2 = (inner: number, heads: number, headDim: number, groups: number, dState: number, dConv: number, module?: { convBias: boolean; projBias: boolean }): SsmLayer["state"] => {
    const convChannels = inner + 2 * groups * dState;
    const projection = 2 * inner + 2 * groups * dState + heads;
    return {
      kind: "state",
      mixer: "mamba2",
      convElements: convChannels * (dConv - 1),
      ssmElements: heads * headDim * dState,
      mixerParameters: module
        ? hiddenSize * projection + (module.projBias ? projection : 0) + convChannels * dConv + (module.convBias ? convChannels : 0) + 3 * heads + inner + inner * hiddenSize + (module.projBias ? hiddenSize : 0)
        : null,
    };
  };
  const layers = (attends: (i: number) => boolean, state: SsmLayer["state"], stateOnAttentionLayers = false): SsmLayer[] =>
    Array.from({ length: numLayers }, (_, i) => ({ attention: attends(i), state: attends(i) && !stateOnAttentionLayers ? undefined : state }));

  switch (kind) {
    case "mamba":
      return layers(
        () => false,
        mamba1(need("intermediate_size", need("expand", 2) * hiddenSize), need("state_size", 16), need("conv_kernel", 4), { dtRank: "time_step_rank", convBias: "use_conv_bias", projBias: "use_bias" }, false),
      );
    case "mamba2": {
      const heads = need("num_heads");
      return layers(
        () => false,
        mamba2(need("expand", 2) * hiddenSize, heads, need("head_dim"), need("n_groups", 1), need("state_size"), need("conv_kernel", 4), { convBias: flag("use_conv_bias", true), projBias: flag("use_bias", false) }),
      );
    }
    case "jamba": {
      // modeling_jamba.py: attention iff i % attn_layer_period == attn_layer_offset (1 in 8).
      const period = need("attn_layer_period", 8);
      const offset = typeof config["attn_layer_offset"] === "number" ? config["attn_layer_offset"] : 4;
      return layers(
        (i) => i % period === offset,
        mamba1(need("mamba_expand", 2) * hiddenSize, need("mamba_d_state", 16), need("mamba_d_conv", 4), { dtRank: "mamba_dt_rank", convBias: "mamba_conv_bias", projBias: "mamba_proj_bias" }, true),
      );
    }
    case "falcon_h1": {
      // Falcon-H1: every layer has both an attention and a Mamba-2 branch.
      const heads = need("mamba_n_heads");
      const headDim = need("mamba_d_head");
      const inner = readPositiveInt(config, ["mamba_d_ssm"])?.value ?? need("mamba_expand", 2) * hiddenSize;
      return layers(() => true, mamba2(inner, heads, headDim, need("mamba_n_groups", 1), need("mamba_d_state"), need("mamba_d_conv", 4)), true);
    }
    case "granitemoehybrid": {
      const types = readStringArray(config, "layer_types");
      if (!types || types.length !== numLayers) throw new UnsupportedModelError("config.json has no layer_types with one entry per layer: vramplan needs it to tell Mamba from attention layers", "layer_types");
      // GraniteMoeHybridConfig's defaults: 128 heads, 1 group, d_head "auto" (expand · h / heads), conv bias, no projection bias.
      const heads = need("mamba_n_heads", 128);
      const inner = need("mamba_expand", 2) * hiddenSize;
      const headSetting = readPositiveInt(config, ["mamba_d_head"])?.value;
      const headDim = headSetting ?? inner / heads;
      return layers(
        (i) => types[i] === "attention",
        mamba2(inner, heads, headDim, need("mamba_n_groups", 1), need("mamba_d_state", 256), need("mamba_d_conv", 4), { convBias: flag("mamba_conv_bias", true), projBias: flag("mamba_proj_bias", false) }),
      );
    }
    case "nemotron_h": {
      // transformers NemotronHMamba2Mixer: inner = mamba_num_heads × mamba_head_dim.
      const pattern = nemotronPattern(config, numLayers);
      const heads = need("mamba_num_heads");
      const headDim = need("mamba_head_dim");
      const state = mamba2(heads * headDim, heads, headDim, need("n_groups", 1), need("ssm_state_size"), need("conv_kernel", 4), { convBias: flag("use_conv_bias", true), projBias: flag("use_bias", false) });
      return Array.from({ length: numLayers }, (_, i) => ({ attention: pattern[i] === "*", state: pattern[i] === "M" ? state : undefined }));
    }
    case "lfm2": {
      // LFM2: attention where layer_types (or full_attn_idxs) says, a short convolution elsewhere.
      const types = readStringArray(config, "layer_types");
      const listed = Array.isArray(config["full_attn_idxs"]) ? new Set(config["full_attn_idxs"] as unknown[]) : undefined;
      const attends = types && types.length === numLayers ? (i: number) => types[i] === "full_attention" : listed ? (i: number) => listed.has(i) : () => true;
      const kernel = need("conv_L_cache", 3);
      const bias = flag("conv_bias", false);
      // Lfm2ShortConv: in_proj h → 3h, a depthwise conv of L_cache taps, out_proj h → h. vLLM keeps
      // (L_cache − 1) × conv_dim of it per sequence (MambaStateShapeCalculator.short_conv_state_shape).
      const state: SsmLayer["state"] = {
        kind: "state",
        mixer: "short-conv",
        convElements: hiddenSize * (kernel - 1),
        ssmElements: 0,
        mixerParameters: hiddenSize * 3 * hiddenSize + hiddenSize * kernel + hiddenSize * hiddenSize + (bias ? 3 * hiddenSize + 2 * hiddenSize : 0),
      };
      return layers(attends, state);
    }
    case "sambay": {
      // Phi-4-mini-flash-reasoning (modeling_phi4flash.py; vLLM's phi4flash.py until 0.10.2): a
      // Mamba-1 mixer on every mb_per_layer-th layer and differential attention on the others. From
      // layer L/2 on (YOCO) the layers' outputs feed the second half: from L/2 + 2 on, attention
      // layers only project queries and read layer L/2 + 1's KV, and Mamba layers become gated
      // memory units (in_proj h → I, out_proj I → h) over layer L/2's Mamba output: no cache of their own.
      // Phi4FlashConfig's default is 2; 0 means no Mamba layer at all.
      const setting = config["mb_per_layer"];
      if (setting !== undefined && !(typeof setting === "number" && Number.isSafeInteger(setting) && setting >= 0)) {
        throw new UnsupportedModelError(`config.json has mb_per_layer = ${JSON.stringify(setting)}, which is not a whole number of layers (0 for none): fix that field`, "mb_per_layer");
      }
      const every = typeof setting === "number" ? setting : 2;
      const inner = need("mamba_expand", 2) * hiddenSize;
      const mamba = mamba1(inner, need("mamba_d_state", 16), need("mamba_d_conv", 4), { dtRank: "mamba_dt_rank", convBias: "mamba_conv_bias", projBias: "mamba_proj_bias" }, false);
      const headDim = hiddenSize / need("num_attention_heads");
      const crossFrom = Math.floor(numLayers / 2) + 2;
      return Array.from({ length: numLayers }, (_, i) => {
        const isMamba = every > 0 && i % every === 0;
        if (i < crossFrom) return { attention: !isMamba, state: isMamba ? mamba : undefined };
        const sharedMixer: SharedMixer = isMamba
          ? { kind: "gated-memory-unit", parameters: 2 * hiddenSize * inner }
          : // Wqkv (queries only) and out_proj, both biased, with the λ vectors and subln.
            { kind: "yoco-cross-attention", parameters: 2 * (hiddenSize * hiddenSize + hiddenSize) + 6 * headDim };
        return { attention: false, state: undefined, sharedMixer };
      });
    }
    case "qwen3_next": {
      // Qwen3-Next: gated delta-net layers, full attention every `full_attention_interval`-th.
      const types = readStringArray(config, "layer_types");
      const interval = need("full_attention_interval", 4);
      const attends = types && types.length === numLayers ? (i: number) => types[i] === "full_attention" : (i: number) => (i + 1) % interval === 0;
      const keyHeads = need("linear_num_key_heads");
      const valueHeads = need("linear_num_value_heads");
      const keyDim = need("linear_key_head_dim");
      const valueDim = need("linear_value_head_dim");
      const kernel = need("linear_conv_kernel_dim", 4);
      const convChannels = 2 * keyHeads * keyDim + valueHeads * valueDim;
      // modeling_qwen3_next.py GatedDeltaNet: in_proj_qkvz, in_proj_ba, a bias-free depthwise conv,
      // dt_bias and A_log per value head, a gated RMSNorm over the value dim, out_proj.
      const mixerParameters =
        hiddenSize * (2 * keyHeads * keyDim + 2 * valueHeads * valueDim) +
        hiddenSize * 2 * valueHeads +
        convChannels * kernel +
        2 * valueHeads +
        valueDim +
        valueHeads * valueDim * hiddenSize;
      const state: SsmLayer["state"] = {
        kind: "state",
        mixer: "gated-deltanet",
        convElements: convChannels * (kernel - 1),
        ssmElements: valueHeads * valueDim * keyDim,
        mixerParameters,
      };
      return layers(attends, state);
    }
  }
}
