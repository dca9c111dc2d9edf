/** Serves the given tasks (in task-id order) on this knitting worker. */
export declare function serveWorker(tasks: readonly unknown[]): Promise<void>;
