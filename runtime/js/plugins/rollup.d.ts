import type { Plugin } from "rollup";
import type { KnittingPluginOptions } from "./plugin-options.js";
export type { KnittingPluginOptions };
export default function knitting(options: KnittingPluginOptions): Plugin;
