import { plainToInstance } from 'class-transformer';
import {
  getMetadataStorage,
  registerDecorator,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { ConfigError, type EnvProblem } from './config-error';

export type Env = Record<string, string | undefined>;

/** An env class: fields named after the variables, defaults as initial values. */
export type EnvClass<T extends object> = new () => T;

/** Variables whose values are never repeated in an error: they may hold a credential. */
const SECRET_NAME = /URL|PASSWORD|TOKEN|KEY|AUTH/;

/**
 * The text each number check reads as a number, in decimal only: anything else ("0x10", "1e3",
 * "5.0" for a whole number) stays text and fails the check.
 */
const NUMBER_TEXT: Record<string, RegExp> = {
  isInt: /^-?\d+$/,
  isNumber: /^-?(\d+\.?\d*|\.\d+)$/,
};

/**
 * A rule beside the built-in ones: `problem` returns what is wrong with the value, read with the
 * rest of the environment, or null. It also runs on an unset variable, so it can require one.
 */
export function Check<E extends object, V = string>(
  problem: (value: V | undefined, env: E) => string | null,
) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'envCheck',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown, args) => problem(value as V, args?.object as E) === null,
        defaultMessage: (args) => problem(args?.value as V, args?.object as E) ?? '',
      },
    });
}

/** The message a thrown parse error carries, or null when `parse` succeeds. */
export function problemOf(parse: () => unknown): string | null {
  try {
    parse();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The variables an env class declares, its base classes' included. */
export function envVariables(envClass: EnvClass<object>): string[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(envClass, '', true, false);
  return [...new Set(metadata.map((m) => m.propertyName))];
}

/** Variable → the text its number check reads as a number. */
function numberTexts(envClass: EnvClass<object>): Map<string, RegExp> {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(envClass, '', true, false);
  return new Map(
    metadata.flatMap((m) =>
      m.name && NUMBER_TEXT[m.name] ? [[m.propertyName, NUMBER_TEXT[m.name]]] : [],
    ),
  );
}

function toProblem(error: ValidationError): EnvProblem {
  const variable = error.property;
  const constraints = error.constraints ?? {};
  // Not a number at all: its bounds say nothing more.
  const notNumber = constraints.isInt ?? constraints.isNumber;
  const problem = (notNumber ? [notNumber] : Object.values(constraints))
    // class-validator's messages start with the property, which the line already names.
    .map((message) =>
      message.startsWith(`${variable} `) ? message.slice(variable.length + 1) : message,
    )
    .join('; ');
  const shown =
    error.value === undefined || SECRET_NAME.test(variable)
      ? ''
      : ` (got "${String(error.value)}")`;
  return { variable, problem: `${problem}${shown}` };
}

/**
 * Reads the variables `envClass` declares from `env` (trimmed; unset or empty keeps the field's
 * default), validates them all and returns the instance, or throws one ConfigError naming every
 * bad variable.
 */
export function loadEnv<T extends object>(envClass: EnvClass<T>, env: Env): T {
  const numbers = numberTexts(envClass);
  const raw: Record<string, string | number> = {};
  for (const name of envVariables(envClass)) {
    const value = env[name]?.trim();
    if (value === undefined || value === '') continue;
    raw[name] = numbers.get(name)?.test(value) ? Number(value) : value;
  }
  const instance = plainToInstance(envClass, raw);
  const problems = validateSync(instance, { forbidUnknownValues: false }).map(toProblem);
  if (problems.length > 0)
    throw new ConfigError(problems[0].variable, problems[0].problem, ...problems.slice(1));
  return instance;
}
