/**
 * A tokenizer small enough to work through by hand. tokenizer.json in the tokenizers format: a
 * Whitespace pre-tokenizer (runs of word characters, runs of punctuation, spaces dropped), a BPE
 * model over single letters with the ten merges below, and special tokens matched whole before
 * pre-tokenization. A word's tokens are found by applying the merges in rank order:
 *   hello: h e l l o → (1) he l l o → (2) he ll o → (3) hell o → (4) hello          = 1 token
 *   world: w o r l d → (5) w or l d → (6) wor l d → (7) worl d → (8) world           = 1 token
 *   are:   a r e → (9) ar e → (10) are                                               = 1 token
 *   you:   y o u (no merge applies)                                                  = 3 tokens
 *   how:   h o w (no merge applies)                                                  = 3 tokens
 *   hold:  h o l d (no merge applies: "h e", "l l", "o r" need other neighbours)     = 4 tokens
 *   ?  .   one punctuation character each                                            = 1 token
 * A character outside the vocabulary is one [UNK] token.
 */
const SPECIAL = ["<s>", "</s>", "[UNK]", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"];
const LETTERS = ["a", "d", "e", "h", "l", "o", "r", "u", "w", "y", "?", "."];
const MERGES: [string, string][] = [
  ["h", "e"],
  ["l", "l"],
  ["he", "ll"],
  ["hell", "o"],
  ["o", "r"],
  ["w", "or"],
  ["wor", "l"],
  ["worl", "d"],
  ["a", "r"],
  ["ar", "e"],
];

export function handTokenizerJson(): object {
  const vocab: Record<string, number> = {};
  for (const token of [...SPECIAL, ...LETTERS, ...MERGES.map(([a, b]) => a + b)]) vocab[token] = Object.keys(vocab).length;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIAL.map((content) => ({ id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: "Whitespace" },
    // A plain prompt gets <s> in front, as Llama-style tokenizers do.
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: { "<s>": { id: "<s>", ids: [vocab["<s>"]], tokens: ["<s>"] } },
    },
    decoder: null,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: "[UNK]",
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: MERGES.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** A system prompt (the first message's, or a default), then every other message, in a loop. */
export const LOOP_TEMPLATE = [
  "{%- if messages[0].role == 'system' %}",
  "{{- '<|system|>' + messages[0].content + '<|end|>' }}",
  "{%- set rest = messages[1:] %}",
  "{%- else %}",
  "{{- '<|system|>hello world<|end|>' }}",
  "{%- set rest = messages %}",
  "{%- endif %}",
  "{%- for message in rest %}",
  "{{- '<|' + message.role + '|>' + message.content + '<|end|>' }}",
  "{%- endfor %}",
  "{%- if add_generation_prompt %}{{- '<|assistant|>' }}{%- endif %}",
].join("\n");

/** Refuses two user (or assistant) turns in a row, as Llama 2 and Mistral templates do. */
export const ALTERNATING_TEMPLATE = [
  "{%- for message in messages %}",
  "{%- if (message.role == 'user') != (loop.index0 % 2 == 0) %}",
  "{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}",
  "{%- endif %}",
  "{{- '<|' + message.role + '|>' + message.content + '<|end|>' }}",
  "{%- endfor %}",
].join("\n");

/** Lists the tools' names in the system turn, then the messages. */
export const TOOLS_TEMPLATE = [
  "{%- if tools %}",
  "{{- '<|system|>' }}",
  "{%- for tool in tools %}{{- tool.function.name + ' ' }}{%- endfor %}",
  "{{- '<|end|>' }}",
  "{%- endif %}",
  "{%- for message in messages %}{{- '<|' + message.role + '|>' + message.content + '<|end|>' }}{%- endfor %}",
  "{%- if add_generation_prompt %}{{- '<|assistant|>' }}{%- endif %}",
].join("\n");

export function tokenizerConfig(chatTemplate: unknown): object {
  return { bos_token: "<s>", eos_token: "</s>", unk_token: "[UNK]", model_max_length: 4096, tokenizer_class: "PreTrainedTokenizerFast", chat_template: chatTemplate };
}
