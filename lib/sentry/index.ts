export { errorsOnlyIntegrations } from './errors-only.js';
