export * from './relay-queue';
export * from './popbill-event.job';
export * from './popbill-event.dto';
export * from './event-job-name';
export * from './log-format';
