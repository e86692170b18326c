import { HubHttpError, isVramplanError, MalformedFileError, NetworkError, VramplanError } from "../errors.js";
import { isTimeout, UnreachableError } from "./http.js";

export interface HubErrorContext {
  id: string;
  revision: string;
  endpoint: string;
  hasToken: boolean;
  /** The repo's `gated` status when model info was readable. */
  gated?: false | "auto" | "manual" | undefined;
  /** What was being fetched, for the message ("config.json"). */
  what?: string;
}

interface HubApiErrorLike {
  name?: string;
  statusCode: number;
  url: string;
  message: string;
  /** The JSON body the Hub answered with, e.g. `{ "error": "Invalid rev id: v9" }`. */
  data?: { error?: unknown };
  /** The Hub's X-Error-Code: RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo. */
  errorCode?: string | null;
}

function isHubApiError(error: unknown): error is HubApiErrorLike {
  return error instanceof Error && typeof (error as Partial<HubApiErrorLike>).statusCode === "number";
}

/**
 * Turns whatever the Hub client threw into one of vramplan's typed errors, with a message that
 * names the model and the fix. Never includes request headers, so never the token.
 */
export function toVramplanError(error: unknown, context: HubErrorContext): VramplanError | unknown {
  if (isVramplanError(error)) return error;
  const page = `${context.endpoint}/${context.id}`;
  if (isHubApiError(error)) {
    const status = error.statusCode;
    const details = { status, url: error.url.split("?")[0] ?? error.url, cause: error };
    const hubCode = error.errorCode ?? null;
    if (hubCode === "RepoNotFound") {
      const fix = context.hasToken ? "check the id, and that your HF_TOKEN can read it if it is private" : "check the id; if the repo is private, set HF_TOKEN";
      return new HubHttpError("notFound", `model ${context.id} not found on ${context.endpoint} (HTTP ${status}): ${fix}`, details);
    }
    if (status === 401 || status === 403) {
      if (context.gated || hubCode === "GatedRepo") {
        const fix = context.hasToken
          ? `your HF_TOKEN has no access yet: accept the license at ${page} with that account (gated requests may take a while to be approved)`
          : `accept the license at ${page}, then set HF_TOKEN to a token of that account`;
        return new HubHttpError("accessDenied", `${context.id} is a gated model (HTTP ${status}): ${fix}`, details);
      }
      const fix = context.hasToken
        ? "check the id, and that your HF_TOKEN can read this repo"
        : "check the id; if the repo is private or gated, set HF_TOKEN to a token that can read it";
      return new HubHttpError("accessDenied", `access to ${context.id} was refused (HTTP ${status}): ${fix}`, details);
    }
    if (status === 404) {
      // The Hub says which: "Repository not found" versus "Invalid rev id" / "Revision Not Found".
      const hubSays = typeof error.data?.error === "string" ? error.data.error : "";
      if (hubCode === "RevisionNotFound" || /\brev(ision)?\b/i.test(hubSays)) {
        return new HubHttpError("notFound", `revision "${context.revision}" of ${context.id} not found (HTTP 404): check the branch, tag or commit`, details);
      }
      if (context.what && hubCode !== "RepoNotFound") {
        return new HubHttpError("notFound", `${context.id} has no ${context.what} at revision ${context.revision} (HTTP 404): is it a transformers model repo?`, details);
      }
      return new HubHttpError("notFound", `model ${context.id} not found on ${context.endpoint} (HTTP 404): check the id (org/name) on ${page}`, details);
    }
    return new NetworkError(`the Hub answered HTTP ${status} for ${context.id}: try again later`, { cause: error });
  }
  if (error instanceof Error && error.name === "SafetensorParseError") {
    const match = /^Failed to parse file ([^:]+): (.*)$/.exec(error.message);
    return new MalformedFileError(`${context.id}/${match?.[1] ?? "safetensors"}`, match?.[2] ?? error.message, { cause: error });
  }
  if (isTimeout(error) || (error instanceof Error && error.name === "AbortError")) {
    // A body that trickled in past the timeout: the Hub is too slow now, as for a request that hung.
    return new UnreachableError(`${context.endpoint} stopped sending ${context.what ?? context.id} (timed out): the Hub is slow or the connection unstable; try again later, or run with {offline}`, `${context.endpoint} timed out sending ${context.what ?? "a file"}`, { cause: error });
  }
  if (error instanceof Error && /malformed response|Invalid file size|Expected ETag|Expected size/i.test(error.message)) {
    return new NetworkError(`the Hub sent an unexpected answer for ${context.id} (${error.message}): check HF_ENDPOINT`, { cause: error });
  }
  return error;
}
