export * from './codes.ts';
export * from './command.ts';
export * from './properties.ts';
export * from './tags.ts';
export * from './message-id.ts';
export * from './message.ts';
