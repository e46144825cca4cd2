/** How a task is named across the hub and live-task maps: ids are unique only within a frontend. */
export function taskKey(frontend: string, taskId: string): string {
  return `${frontend}:${taskId}`;
}
