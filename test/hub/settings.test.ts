import { describe, expect, it } from "vitest";
import { hubSettingsFromEnv } from "../../src/hub/settings.js";

// The precedence huggingface_hub documents (constants.py): HF_HUB_CACHE, else HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
describe("hubSettingsFromEnv", () => {
  it("resolves the HF cache the way huggingface_hub does", () => {
    expect(hubSettingsFromEnv({}, "/home/u").hfCacheDir).toBe("/home/u/.cache/huggingface/hub");
    expect(hubSettingsFromEnv({ XDG_CACHE_HOME: "/x" }, "/home/u").hfCacheDir).toBe("/x/huggingface/hub");
    expect(hubSettingsFromEnv({ HF_HOME: "/hf", XDG_CACHE_HOME: "/x" }, "/home/u").hfCacheDir).toBe("/hf/hub");
    expect(hubSettingsFromEnv({ HF_HOME: "/hf", HF_HUB_CACHE: "/cache" }, "/home/u").hfCacheDir).toBe("/cache");
    expect(hubSettingsFromEnv({}, "/home/u").cacheDir).toBe("/home/u/.cache/vramplan");
  });

  it("reads endpoint, token, offline and the download timeout", () => {
    const settings = hubSettingsFromEnv({ HF_ENDPOINT: "https://mirror.example/", HF_TOKEN: " hf_abc \n", HF_HUB_OFFLINE: "True", HF_HUB_DOWNLOAD_TIMEOUT: "2.5" }, "/h");
    expect(settings).toMatchObject({ endpoint: "https://mirror.example", token: "hf_abc", offline: true, timeoutMs: 2500 });
    const defaults = hubSettingsFromEnv({ HF_HUB_OFFLINE: "0", HF_HUB_DOWNLOAD_TIMEOUT: "soon" }, "/h");
    expect(defaults).toMatchObject({ endpoint: "https://huggingface.co", token: undefined, offline: false });
    expect(defaults.timeoutMs).toBeUndefined();
  });
});
