export {
  ConfigSchema,
  configKeys,
  defaultConfig,
  describeAllowed,
  keySchema,
  storageConfig,
  storageKeys,
  type Config,
  type ConfigKey,
} from './schema.ts';
export { ENV_CONFIG_FILE, envName, flagName } from './names.ts';
export { ConfigError, loadConfig, type ConfigIssue, type LoadConfigInput, type LoadedConfig } from './load.ts';
