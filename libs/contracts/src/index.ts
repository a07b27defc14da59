export * from './relay-queue';
export * from './popbill-event.job';
export * from './redis-connection';
export * from './config-error';
export * from './redis-watch';
export * from './shutdown';
export * from './popbill-event.dto';
