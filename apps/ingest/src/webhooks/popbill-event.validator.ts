import {
  getMetadataStorage,
  validateSync,
  ValidationArguments,
  ValidationError,
  ValidationTypes,
} from 'class-validator';
import type { EventFlag, JsonObject, ModelledWebhookType } from '@app/contracts';
import { EVENT_DTOS } from './popbill-event.dto';

export interface FieldError {
  field: string;
  problems: string[];
}

export type EventCheck =
  | { ok: true; flags: EventFlag[]; eventType: string | null; corpNum: string | null }
  | { ok: false; errors: FieldError[] };

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

function toFieldErrors(errors: ValidationError[]): FieldError[] {
  return errors.map((error) => ({
    field: error.property,
    problems: Object.values(error.constraints ?? {}),
  }));
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

/** Checks the Pb-Webhook-Type header's shape; any well-formed value is accepted. */
export function checkWebhookType(type: string | undefined): string | null {
  if (type === undefined || type === '') return 'Pb-Webhook-Type header is required';
  if (!WEBHOOK_TYPE.test(type))
    return 'Pb-Webhook-Type must be 1-64 letters, digits, "." "_" or "-"';
  return null;
}

const stringOrNull = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);

/**
 * Validates one webhook body against its type's DTO. Only modelled fields are copied onto the
 * DTO (never Object.assign of the body), so no body key can reach an object prototype.
 * Unknown types are accepted on their envelope; an unknown eventType is accepted and flagged.
 */
export function checkPopbillEvent(
  webhookType: string,
  body: JsonObject,
  headerEventType?: string,
): EventCheck {
  const eventType = stringOrNull(body.eventType) ?? stringOrNull(headerEventType);
  const corpNum = stringOrNull(body.corpNum);
  if (!isModelled(webhookType)) {
    return { ok: true, flags: ['unmodelled-webhook-type'], eventType, corpNum };
  }
  const Dto = EVENT_DTOS[webhookType];
  const dto = new Dto() as unknown as Record<string, unknown>;
  for (const field of MODELLED_FIELDS.get(webhookType) ?? []) {
    if (Object.prototype.hasOwnProperty.call(body, field)) dto[field] = body[field];
  }
  if (!ACCEPTORS.get(webhookType)?.(dto)) {
    const errors = validateSync(dto, { validationError: { target: false, value: false } });
    if (errors.length > 0) return { ok: false, errors: toFieldErrors(errors) };
  }
  const flags: EventFlag[] = Dto.eventTypes.includes(body.eventType as string)
    ? []
    : ['unknown-event-type'];
  return { ok: true, flags, eventType, corpNum };
}
