/**
 * Preloaded into a benchmarked process (`node --import`): reports its peak resident set size on
 * stderr as it exits, so the parent can print it next to the wall time.
 */
process.on("exit", () => {
  process.stderr.write(`\nBENCH_PEAK_RSS_KB ${process.resourceUsage().maxRSS}\n`);
});
