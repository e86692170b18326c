import type { TokenCount } from "../tokens/count-tokens.js";
import { formatInt } from "./units.js";

/** `vramplan tokens`: the count, where the tokenizer and template came from, and with --show what was counted. */
export function renderTokenCount(count: TokenCount, options: { show?: boolean } = {}): string {
  const { model } = count;
  const origin = model.commit ? ` (${model.commit.slice(0, 7)})` : model.source === "builtin" ? " (built-in copy)" : "";
  const out = [`${model.id} @ ${model.revision}${origin}`];
  if (count.template) {
    const name = count.template.name ? ` "${count.template.name}"` : "";
    const generation = count.template.addGenerationPrompt ? ", with the prompt for the assistant's answer" : ", without a generation prompt";
    out.push(`${formatInt(count.tokens)} tokens: the conversation through the chat template${name} of ${count.template.file}${generation}`);
  } else {
    out.push(`${formatInt(count.tokens)} tokens: the prompt, with the tokenizer's special tokens`);
  }
  if (options.show) {
    out.push("", "text:", count.text, "", "tokens (id, piece):");
    count.ids.forEach((id, index) => out.push(`${String(id).padStart(8)}  ${JSON.stringify(count.pieces[index] ?? "")}`));
  }
  for (const note of count.notes) out.push(`note: ${note}`);
  return out.join("\n") + "\n";
}
