import type { Logger } from 'pino';

/**
 * For the long-running commands: everything the process reports goes through the JSON logger,
 * one line each. Node's own warning printer (multi-line text on stderr, e.g. the AWS SDK's
 * notice about Node versions) is replaced by a log line; an unhandled promise rejection is
 * logged and the process carries on (loads and flushes already report their own failures);
 * an uncaught exception is logged and ends the process, whose state is no longer known.
 */
export function logProcessErrors(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => logger.warn({ warning: { name: warning.name, message: warning.message } }, 'process warning'));
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection; carrying on'));
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception; exiting');
    process.exit(1);
  });
}
