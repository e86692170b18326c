/** Options several commands share, described once so their help says the same thing everywhere. */
export const REVISION_OPTION = { type: "string", describe: "Branch, tag or commit (default main)" } as const;
export const OFFLINE_OPTION = { type: "boolean", default: false, describe: "Never touch the network (same as HF_HUB_OFFLINE=1)" } as const;
export const EXPLAIN_OPTION = { type: "boolean", default: false, describe: "Show every formula with its numbers, and the source each restates" } as const;
