import type { BatchProgress } from "../batch/run-batch.js";

/**
 * A one-line progress bar on stderr, redrawn in place: done / total, failures, rate, time left.
 * Written here (a dozen lines) rather than with cli-progress, which @huggingface/hub lists only as
 * an optional dependency. Callers only create it when stderr is a terminal.
 */
/** Erases what a longer previous line left to the right of the cursor. */
const CLEAR_TO_END = "\u001b[K";

export function progressBar(write: (text: string) => void, now: () => number = Date.now) {
  const started = now();
  let last = 0;
  return {
    update(progress: BatchProgress): void {
      const time = now();
      if (time - last < 100 && progress.done < progress.total) return;
      last = time;
      const width = 24;
      const filled = progress.total ? Math.round((progress.done / progress.total) * width) : width;
      const seconds = Math.max(0.001, (time - started) / 1000);
      const rate = progress.done / seconds;
      const eta = rate > 0 ? (progress.total - progress.done) / rate : 0;
      write(
        `\r[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${progress.done}/${progress.total} done · ${progress.failed} failed · ${rate.toFixed(1)}/s · ETA ${Math.ceil(eta)} s${CLEAR_TO_END}`,
      );
    },
    finish(): void {
      write("\n");
    },
  };
}

/** Without a terminal (a CI log, a redirect): a plain line this often, so a long run is not silent. */
export const PROGRESS_LINE_INTERVAL_MS = 10_000;

/** One line per interval on stderr, none for a run shorter than that. */
export function progressLines(write: (text: string) => void, now: () => number = Date.now) {
  const started = now();
  let last = started;
  return {
    update(progress: BatchProgress): void {
      const time = now();
      if (time - last < PROGRESS_LINE_INTERVAL_MS || progress.done >= progress.total) return;
      last = time;
      const rate = progress.done / Math.max(0.001, (time - started) / 1000);
      const eta = rate > 0 ? Math.ceil((progress.total - progress.done) / rate) : undefined;
      write(`vramplan: ${progress.done} of ${progress.total} models done, ${progress.failed} failed, ${rate.toFixed(1)}/s${eta === undefined ? "" : `, about ${eta} s left`}\n`);
    },
    finish(): void {},
  };
}
