/**
 * Limits raised out of the way for tests that are not about them (they poll every 10 ms and submit
 * many tasks from one address); the abuse tests set the limit they measure on top of these.
 */
export const relaxedLimitsEnv: Record<string, string> = {
  RATE_SUBMITS_PER_MINUTE: "100000",
  RATE_POLLS_PER_MINUTE: "1000000",
  RATE_OTHER_PER_MINUTE: "1000000",
  MAX_UNFINISHED_TASKS: "100000",
  POOL_MAX_PENDING_PER_SERVER: "100000",
  LOGO_DAILY_QUOTA: "0",
  WS_MAX_PER_ADDRESS: "100000",
  WS_MAX_PER_USER: "100000",
  WS_MESSAGES_PER_SECOND: "100000",
};
