// A third-party package a task module imports (package.sh): the generated
// package must depend on it.
export const upper = (s) => s.toUpperCase();
