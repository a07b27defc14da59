/** Prints a benchmark's results as aligned "key  value" rows under a title. */
export function printRows(title: string, rows: Array<[string, string]>): void {
  const width = Math.max(...rows.map(([key]) => key.length));
  console.log(`\n${title}`);
  for (const [key, value] of rows) console.log(`  ${key.padEnd(width)}  ${value}`);
}

/** Runs a benchmark's main, exiting non-zero with the error if it fails. */
export function runBench(main: () => Promise<void>): void {
  main().catch((error: Error) => {
    console.error(error);
    process.exit(1);
  });
}
