// Classic consumer group coordinator: protocol-neutral, in memory, bounded.
// See coordinator.ts for the semantics and why group state is not persisted.

export { GroupCoordinator } from './coordinator.ts';
export { ManualClock, realClock } from './clock.ts';
export * from './types.ts';
