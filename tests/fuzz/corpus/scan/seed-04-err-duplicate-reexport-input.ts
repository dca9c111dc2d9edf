export * from "./left";
export * from "./right";  // 'shared' again, a different function: ambiguous
export * from "./right2"; // 'common' again, the same binding: fine
