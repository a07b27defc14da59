import {
  getMetadataStorage,
  validateSync,
  ValidationArguments,
  ValidationError,
  ValidationTypes,
} from 'class-validator';
import {
  EVENT_DTOS,
  UNKNOWN_WEBHOOK_TYPE,
  type EventFlag,
  type JsonObject,
  type ModelledWebhookType,
  type SchemaProblem,
} from '@app/contracts';

/** What ingest makes of one authorised webhook: never a refusal, at most flags. */
export interface EventCheck {
  webhookType: string;
  eventType: string | null;
  corpNum: string | null;
  flags: EventFlag[];
}

/** The Popbill headers the check reads besides Pb-Webhook-Type. */
export interface EnvelopeHeaders {
  eventType?: string;
  corpNum?: string;
}

const WEBHOOK_TYPE = /^[A-Za-z0-9_.-]{1,64}$/;

type EventDto = (typeof EVENT_DTOS)[ModelledWebhookType];

const metadataOf = (dto: EventDto) =>
  getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);

/** Property names each DTO validates, read once from class-validator's metadata. */
const MODELLED_FIELDS = new Map(
  Object.entries(EVENT_DTOS).map(([type, dto]) => [
    type,
    [...new Set(metadataOf(dto).map((meta) => meta.propertyName))],
  ]),
);

type Accepts = (dto: Record<string, unknown>) => boolean;

/**
 * A yes/no check that runs class-validator's own conditions and constraint instances for one
 * DTO, without building the error tree validateSync makes for every property (most of its cost
 * on the hot path). Only a "yes" is trusted: a "no" goes to validateSync for the messages.
 * DTOs using anything beyond conditional and plain constraints always take validateSync.
 */
export function compileAcceptor(dto: EventDto): Accepts | null {
  const storage = getMetadataStorage();
  const properties = new Map<
    string,
    {
      conditions: Array<(object: object, value: unknown) => boolean>;
      checks: Array<{
        validate: (value: unknown, args: ValidationArguments) => unknown;
        constraints: unknown[];
      }>;
    }
  >();
  for (const meta of metadataOf(dto)) {
    const property = properties.get(meta.propertyName) ?? { conditions: [], checks: [] };
    properties.set(meta.propertyName, property);
    if (meta.type === ValidationTypes.CONDITIONAL_VALIDATION) {
      property.conditions.push(meta.constraints[0] as (object: object, value: unknown) => boolean);
    } else if (
      (meta.type === ValidationTypes.CUSTOM_VALIDATION ||
        meta.type === ValidationTypes.IS_DEFINED) &&
      !meta.each
    ) {
      for (const constraint of storage.getTargetValidatorConstraints(meta.constraintCls)) {
        if (constraint.async) return null;
        const instance = constraint.instance as {
          validate: (value: unknown, args: ValidationArguments) => unknown;
        };
        property.checks.push({
          validate: instance.validate.bind(instance),
          constraints: meta.constraints,
        });
      }
    } else {
      return null;
    }
  }
  const compiled = [...properties].map(([name, rules]) => ({ name, ...rules }));
  return (object) => {
    for (const { name, conditions, checks } of compiled) {
      const value = object[name];
      if (!conditions.every((condition) => condition(object, value))) continue;
      for (const { validate, constraints } of checks) {
        const args = { targetName: dto.name, property: name, object, value, constraints };
        if (validate(value, args) !== true) return false;
      }
    }
    return true;
  };
}

const ACCEPTORS = new Map(
  Object.entries(EVENT_DTOS).map(([type, dto]) => [type, compileAcceptor(dto)]),
);

const isModelled = (type: string): type is ModelledWebhookType => MODELLED_FIELDS.has(type);

/** Names what is wrong with a value class-validator refused, for a `schema:` flag. */
export function schemaProblem(value: unknown, constraints: string[]): SchemaProblem {
  if (value === undefined || value === null) return 'missing';
  if (value === '') return 'empty';
  if (typeof value !== 'string' && typeof value !== 'number') return 'type';
  if (
    constraints.includes('isString') ||
    (typeof value === 'number' && constraints.includes('matches'))
  )
    return 'type';
  if (constraints.includes('isLength') || constraints.includes('maxLength')) return 'length';
  return 'format';
}

function schemaFlags(dto: Record<string, unknown>, errors: ValidationError[]): EventFlag[] {
  return errors.map(
    (error): EventFlag =>
      `schema:${error.property}:${schemaProblem(dto[error.property], Object.keys(error.constraints ?? {}))}`,
  );
}

/** Deeper bodies are refused: nothing Popbill sends nests, and walking them recursively would overflow. */
export const MAX_BODY_DEPTH = 32;

/** True when arrays/objects nest deeper than `max`; iterative, so a hostile body cannot overflow it. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

const stringOrNull = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);

/** A business number without its hyphens (101-23-45678 is written that way on paper). */
function corpNumDigits<T extends string | null>(value: T): T {
  return (value?.includes('-') && /^[\d-]+$/.test(value) ? value.replace(/-/g, '') : value) as T;
}

/**
 * Makes sense of one authorised webhook. Only modelled fields are copied onto the DTO (never
 * Object.assign of the body), so no body key can reach an object prototype. Whatever the
 * fields hold, the event is accepted: each deviation from its DTO becomes a flag.
 */
export function checkPopbillEvent(
  webhookTypeHeader: string | undefined,
  body: JsonObject,
  headers: EnvelopeHeaders = {},
): EventCheck {
  const flags: EventFlag[] = [];
  let webhookType = UNKNOWN_WEBHOOK_TYPE;
  if (webhookTypeHeader === undefined || webhookTypeHeader === '')
    flags.push('missing-webhook-type');
  else if (!WEBHOOK_TYPE.test(webhookTypeHeader)) flags.push('invalid-webhook-type');
  else webhookType = webhookTypeHeader;

  const eventType = stringOrNull(body.eventType) ?? stringOrNull(headers.eventType);
  const bodyCorpNum = stringOrNull(body.corpNum);
  const headerCorpNum = stringOrNull(headers.corpNum);
  // The body is what Popbill signed off on; the header only fills in when the body has none.
  const corpNum = corpNumDigits(bodyCorpNum ?? headerCorpNum);
  if (bodyCorpNum !== null && headerCorpNum !== null && corpNumDigits(headerCorpNum) !== corpNum)
    flags.push('corpnum-mismatch');

  if (!isModelled(webhookType)) {
    if (webhookType !== UNKNOWN_WEBHOOK_TYPE) flags.push('unmodelled-webhook-type');
    return { webhookType, eventType, corpNum, flags };
  }
  const Dto = EVENT_DTOS[webhookType];
  const dto = new Dto() as unknown as Record<string, unknown>;
  for (const field of MODELLED_FIELDS.get(webhookType) ?? []) {
    if (Object.prototype.hasOwnProperty.call(body, field)) dto[field] = body[field];
  }
  if (!ACCEPTORS.get(webhookType)?.(dto)) {
    flags.push(
      ...schemaFlags(dto, validateSync(dto, { validationError: { target: false, value: false } })),
    );
  }
  if (eventType !== null && !Dto.eventTypes.includes(eventType)) flags.push('unknown-event-type');
  return { webhookType, eventType, corpNum, flags };
}
