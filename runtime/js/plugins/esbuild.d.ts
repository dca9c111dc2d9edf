import type { Plugin } from "esbuild";
import type { KnittingPluginOptions } from "./plugin-options.js";
export type { KnittingPluginOptions };
export default function knitting(options: KnittingPluginOptions): Plugin;
