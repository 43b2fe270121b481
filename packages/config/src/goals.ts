import { DEFAULT_EVENT, EVENT_NAME, LIMITS, RESERVED_EVENTS } from '@rta/events';

/**
 * `GOALS`: comma-separated goals, each a custom event name (as `analytics.track` sends it) or a
 * page path starting with `/` (a page view of that exact path, as the `page` dimension holds
 * it: no query string or fragment). Duplicates are dropped; the order is kept.
 */
export function parseGoals(text: string): string[] {
  const goals = [...new Set(text.split(',').map((goal) => goal.trim()).filter(Boolean))];
  for (const goal of goals) {
    if (goal.startsWith('/')) {
      if (goal.length > LIMITS.pathLength || /[?#\p{Cc}]/u.test(goal)) {
        throw new Error(`"${goal}" is not a page path: at most ${LIMITS.pathLength} characters, without a query string or fragment`);
      }
    } else if (goal === DEFAULT_EVENT) {
      throw new Error('"pageview" is every page view, not a goal; name a page path such as /thank-you instead');
    } else if (RESERVED_EVENTS.has(goal)) {
      throw new Error(`"${goal}" is counted by the pipeline, not sent by a page, so it cannot be a goal`);
    } else if (!EVENT_NAME.test(goal)) {
      throw new Error(`"${goal}" is neither a page path (starting with /) nor an event name (1-64 characters of A-Z a-z 0-9 _ . : -)`);
    }
  }
  return goals;
}
