/** Time past the grace period for closing connections before a process exits anyway. */
export const SHUTDOWN_MARGIN_MS = 5000;

/** The log calls a shutdown makes; Nest's Logger and pino's both fit. */
export interface ShutdownLogger {
  log(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface ShutdownPlan {
  /** Time in-flight work gets to finish; the process exits at most SHUTDOWN_MARGIN_MS later. */
  graceMs: number;
  /** The orderly shutdown (Nest's app.close(signal): its hooks log the app's last line). */
  close(signal: NodeJS.Signals): Promise<void>;
  /** Work that would be lost by exiting now; an empty list means none. */
  abandoned(): Promise<string[]> | string[];
  logger: ShutdownLogger;
  /** process.exit, replaced in unit tests. */
  exit?: (code: number) => void;
}

/** The bound a SIGTERM is answered within: grace period plus margin. */
export const shutdownBoundMs = (graceMs: number) => graceMs + SHUTDOWN_MARGIN_MS;

/**
 * Answers SIGTERM and SIGINT with the orderly shutdown, bounded: whatever Redis or JANDI do,
 * the process exits within grace + margin, with 0 when nothing was abandoned and 1 (abandoned
 * work logged) otherwise. A second signal exits at once the same way.
 */
export function stopOnSignals(plan: ShutdownPlan): (signal: NodeJS.Signals) => Promise<void> {
  const exit = plan.exit ?? ((code: number) => process.exit(code));
  const boundMs = shutdownBoundMs(plan.graceMs);
  let stopping: Promise<void> | null = null;
  let exited = false;

  const exitAbandoning = async (why: string) => {
    if (exited) return;
    let abandoned: string[];
    try {
      abandoned = await plan.abandoned();
    } catch (error) {
      abandoned = [`unknown (${(error as Error).message})`];
    }
    if (exited) return;
    exited = true;
    plan.logger.error(
      { boundMs, abandoned, abandonedCount: abandoned.length },
      abandoned.length > 0
        ? `${why}: exiting with ${abandoned.length} unit(s) of work abandoned`
        : `${why}: exiting; nothing was abandoned`,
    );
    exit(abandoned.length > 0 ? 1 : 0);
  };

  const onSignal = (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return exitAbandoning(`second ${signal} during shutdown`);
    plan.logger.log({ signal, graceMs: plan.graceMs, boundMs }, 'shutting down');
    const hardStop = setTimeout(
      () => void exitAbandoning(`shutdown not finished within ${boundMs} ms`),
      boundMs,
    );
    stopping = plan.close(signal).then(
      () => {
        clearTimeout(hardStop);
        if (exited) return;
        exited = true;
        exit(0);
      },
      async (error: unknown) => {
        clearTimeout(hardStop);
        await exitAbandoning(`shutdown failed: ${(error as Error).message}`);
      },
    );
    return stopping;
  };
  process.on('SIGTERM', (signal) => void onSignal(signal));
  process.on('SIGINT', (signal) => void onSignal(signal));
  return onSignal;
}
