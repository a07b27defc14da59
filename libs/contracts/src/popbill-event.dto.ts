import {
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateIf,
  ValidationArguments,
  registerDecorator,
  ValidationOptions,
} from 'class-validator';

const DATETIME = /^\d{14}$/;
const DATE = /^\d{8}$/;
const CORP_NUM = /^\d{10}$/;
const DATETIME_MESSAGE = (args: ValidationArguments) =>
  `${args.property} must be a yyyyMMddHHmmss timestamp (14 digits)`;
const CORP_NUM_MESSAGE = (args: ValidationArguments) =>
  `${args.property} must be a 10-digit business registration number`;

/** An optional field that is absent, null or "" (Popbill sends "" for values not known yet). */
function IsOptionalOrEmpty() {
  return ValidateIf((_event: object, value: unknown) => value != null && value !== '');
}

/** stateCode arrives as a number (tax invoice, cash receipt) or a 3-digit string (statement). */
function IsStateCode(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isStateCode',
      target: target.constructor,
      propertyName,
      options: {
        message: `${propertyName} must be a 3-digit state code, as a number or a string`,
        ...options,
      },
      validator: {
        validate: (value: unknown) =>
          (typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 999) ||
          (typeof value === 'string' && /^[1-9]\d{2}$/.test(value)),
      },
    });
}

/**
 * Fields every modelled Popbill state event carries, as Popbill usually sends them. Ingest runs
 * these checks to flag an event, never to refuse it; the worker reads fields through these types.
 */
abstract class PopbillStateEventDto {
  @Matches(DATETIME, { message: DATETIME_MESSAGE })
  eventDT!: string;

  @IsString()
  @Length(1, 32)
  eventType!: string;

  @Matches(CORP_NUM, { message: CORP_NUM_MESSAGE })
  corpNum!: string;

  @IsString()
  @Length(1, 64)
  itemKey!: string;

  @IsStateCode()
  stateCode!: number | string;

  @Matches(DATETIME, { message: DATETIME_MESSAGE })
  stateDT!: string;
}

/** TAXINVOICE.STATE: e-tax invoice state change. */
export class TaxinvoiceStateEventDto extends PopbillStateEventDto {
  static readonly eventTypes = ['Issue', 'CancelIssue', 'CLOSEDOWN', 'NTS', 'OPEN', 'MANUAL'];

  // Documented on Issue; "" means NTS has not numbered it yet.
  @ValidateIf(
    (event: TaxinvoiceStateEventDto) =>
      event.ntsConfirmNum !== '' && (event.eventType === 'Issue' || event.ntsConfirmNum != null),
  )
  @IsString()
  @Length(1, 24)
  ntsConfirmNum?: string;

  @IsOptionalOrEmpty()
  @Matches(DATETIME, { message: DATETIME_MESSAGE })
  ntssendDT?: string;

  @IsOptionalOrEmpty()
  @Matches(DATETIME, { message: DATETIME_MESSAGE })
  ntsresultDT?: string;

  @IsOptionalOrEmpty()
  @IsString()
  @MaxLength(6)
  ntssendErrCode?: string;
}

/** STATEMENT.STATE: electronic statement. */
export class StatementStateEventDto extends PopbillStateEventDto {
  static readonly eventTypes = ['Issue', 'Cancel', 'OPEN', 'MANUAL'];

  @IsOptionalOrEmpty()
  @IsString()
  @MaxLength(24)
  invoiceNum?: string;

  @IsOptionalOrEmpty()
  @Matches(DATETIME, { message: DATETIME_MESSAGE })
  issueDT?: string;

  @IsOptionalOrEmpty()
  @IsString()
  @MaxLength(24)
  mgtKey?: string;
}

/** CASHBILL.STATE: cash receipt. */
export class CashbillStateEventDto extends PopbillStateEventDto {
  static readonly eventTypes = ['Issue', 'NTS', 'MANUAL'];

  @IsOptionalOrEmpty()
  @Matches(CORP_NUM, { message: CORP_NUM_MESSAGE })
  franchiseCorpNum?: string;

  @IsOptionalOrEmpty()
  @Matches(DATE, {
    message: (args: ValidationArguments) => `${args.property} must be a yyyyMMdd date`,
  })
  tradeDate?: string;

  @IsOptionalOrEmpty()
  @IsString()
  @MaxLength(24)
  confirmNum?: string;

  @IsOptionalOrEmpty()
  @Matches(DATETIME, { message: DATETIME_MESSAGE })
  ntssendDT?: string;

  @IsOptionalOrEmpty()
  @Matches(DATETIME, { message: DATETIME_MESSAGE })
  ntsresultDT?: string;

  @IsOptionalOrEmpty()
  @IsString()
  @MaxLength(8)
  ntsresultCode?: string;

  @IsOptionalOrEmpty()
  @Matches(DATETIME, { message: DATETIME_MESSAGE })
  issueDT?: string;
}

export const EVENT_DTOS = {
  'TAXINVOICE.STATE': TaxinvoiceStateEventDto,
  'STATEMENT.STATE': StatementStateEventDto,
  'CASHBILL.STATE': CashbillStateEventDto,
} as const;
