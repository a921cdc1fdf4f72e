// Where a command writes. Text for people goes through `out` and `err`, which escape what a
// request, a model or a tool could use to take over an operator's terminal; JSON goes through
// `json`, exact.

export interface CliIo {
  /** A line for people on stdout, terminal-safe. */
  out(text: string): void;
  /** A line for people on stderr, terminal-safe. */
  err(text: string): void;
  /** A value as JSON on stdout, exactly as it is (indent 2; 0 for one line). */
  json(value: unknown, indent?: number): void;
  /** Text that is data (an exported history), exactly as it is, on stdout. */
  data(text: string): void;
  /** Text for people with no line end (tokens as they stream), terminal-safe; only where stdout is a terminal. */
  partial?(text: string): void;
}

// C0 controls but tab and newline, DEL, C1 controls, and the bidirectional marks, embeddings,
// overrides and isolates (U+202E makes "exe.txt" read "txt.exe").
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const unsafe = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Shows control and bidi characters as escapes (`\x1b`, `\u202e`), so text cannot move the cursor, ring, erase or reorder. */
export function forTerminal(text: string): string {
  return text.replace(unsafe, (character) => {
    const code = character.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

export const processIo: CliIo = {
  out: (text) => void process.stdout.write(`${forTerminal(text)}\n`),
  err: (text) => void process.stderr.write(`${forTerminal(text)}\n`),
  json: (value, indent = 2) => void process.stdout.write(`${JSON.stringify(value, null, indent || undefined)}\n`),
  data: (text) => void process.stdout.write(`${text}\n`),
  ...(process.stdout.isTTY ? { partial: (text: string) => void process.stdout.write(forTerminal(text)) } : {}),
};
