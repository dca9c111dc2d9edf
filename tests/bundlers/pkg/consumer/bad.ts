// Must NOT type-check: proves the package's types are not `any`.
import { createPool } from "knitting";
import table from "@knit-test/my-tasks";

const pool = createPool()(table);
const s: string = await pool.call.add([1, 2]); // TS2322: number is not string
await pool.call.unit({ x: 1 }); // TS2741: y is missing
await pool.call.nothing(1); // TS2339: no such task
