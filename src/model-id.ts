import { UsageError } from "./errors.js";

export interface ModelRef {
  /** `org/name`, or a legacy bare name such as `gpt2`. */
  id: string;
  /** A branch, tag or 40-hex commit; `main` unless the user said otherwise. */
  revision: string;
}

export const DEFAULT_REVISION = "main";

// The Hub's own rule (huggingface_hub `validate_repo_id`): optional namespace, then a name of word
// characters, dots and dashes, at most 96 characters each, with no `--` or `..` anywhere.
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,95}$/;
const REVISION = /^[A-Za-z0-9_.\-/]{1,255}$/;
/**
 * A revision becomes a file path in the HF cache (refs/<revision>, "refs/pr/1" nested): each part
 * a name the file system takes with room for a temporary suffix, none hidden, empty or a dot segment.
 */
const REVISION_PART = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$/;

/**
 * Parses `org/name` or `org/name@revision`. An explicit `revision` argument wins over `@`.
 * Throws a UsageError naming what is wrong and how a valid id looks.
 */
export function parseModelRef(input: string, revision?: string): ModelRef {
  const trimmed = input.trim();
  const at = trimmed.lastIndexOf("@");
  const id = at > 0 ? trimmed.slice(0, at) : trimmed;
  const inlineRevision = at > 0 ? trimmed.slice(at + 1) : undefined;
  const hint = "expected a Hugging Face model id like Qwen/Qwen2.5-7B (optionally @revision)";

  if (id.length === 0) throw new UsageError(`empty model id: ${hint}`);
  if (/^https?:\/\//.test(id)) {
    const path = id.replace(/^https?:\/\/[^/]+\//, "").split("/").slice(0, 2).join("/");
    throw new UsageError(`"${id}" is a URL, not a model id: pass "${path}" instead`);
  }
  const segments = id.split("/");
  const valid =
    segments.length <= 2 &&
    segments.every((segment) => SEGMENT.test(segment) && !segment.endsWith(".") && !segment.endsWith("-")) &&
    !id.includes("--") &&
    !id.includes("..") &&
    !id.endsWith(".git");
  if (!valid) throw new UsageError(`invalid model id "${id}": ${hint}`);

  if (revision !== undefined && inlineRevision !== undefined && revision !== inlineRevision) {
    throw new UsageError(`two revisions for ${id}: @${inlineRevision} and {revision} ${revision}; keep one`);
  }
  const chosen = inlineRevision ?? revision ?? DEFAULT_REVISION;
  if (!REVISION.test(chosen) || chosen.includes("..") || !chosen.split("/").every((part) => REVISION_PART.test(part))) {
    throw new UsageError(`invalid revision "${chosen}": use a branch, tag or commit hash`);
  }
  return { id, revision: chosen };
}

export function isCommitHash(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}
