import workerpool from "workerpool";
import { fns } from "./fns.mjs";
workerpool.worker(fns);
