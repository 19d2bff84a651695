/** The logging port domain code uses; pino (Fastify's logger) satisfies it. Never pass PHI or keys. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything, for tools and tests that do not want output. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
