export * from './transaction-module-options.interface.js';
export * from './transaction-http.interfaces.js';
