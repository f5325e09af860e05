import pino from 'pino';

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const level = process.env.LOG_LEVEL && LEVELS.has(process.env.LOG_LEVEL) ? process.env.LOG_LEVEL : 'info';

/** The process logger: JSON lines on stdout, one child per service. Level from LOG_LEVEL. */
export const logger = pino({ level, base: undefined });
