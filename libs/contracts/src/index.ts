export * from './relay-queue';
export * from './popbill-event.job';
export * from './redis-connection';
export * from './config-error';
export * from './event-job-name';
export * from './log-format';
