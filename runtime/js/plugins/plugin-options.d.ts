// Options shared by knitting/esbuild, knitting/rollup and knitting/vite.
export interface KnittingPluginOptions {
  /** The task module(s) knitgen scans, relative to root. */
  tasks: string | string[];
  /** Project folder (default: process.cwd(), or esbuild's absWorkingDir). */
  root?: string;
  /** Where knitgen writes (default: ROOT/node_modules/.cache/knitting/<hash>). */
  genDir?: string;
  /** Worker entries to emit (default: all three). */
  runtimes?: Array<"node" | "deno" | "bun">;
  /** The knitgen binary (default: $KNITGEN, else the one in the knitting package). */
  knitgen?: string;
  /** Keep `knitting` itself out of the bundle (default true: its addon loads from node_modules). */
  externalKnitting?: boolean;
}
