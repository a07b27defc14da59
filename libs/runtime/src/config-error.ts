/** One environment variable that cannot be used, and why. */
export interface EnvProblem {
  variable: string;
  problem: string;
}

/**
 * Bad environment variables found at boot, one line each naming the variable, so every fix is
 * obvious from one failed start.
 */
export class ConfigError extends Error {
  readonly problems: readonly EnvProblem[];

  constructor(variable: string, problem: string, ...more: EnvProblem[]) {
    const problems = [{ variable, problem }, ...more];
    super(
      problems.map((p) => `Invalid environment variable ${p.variable}: ${p.problem}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
