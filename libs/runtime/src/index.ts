export * from './config-error';
export * from './load-env';
export * from './relay-env';
export * from './shutdown';
