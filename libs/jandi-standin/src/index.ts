export * from './jandi-standin';
