export * from './transaction-console.logger.js';
export * from './pino.js';
export * from './winston.js';
