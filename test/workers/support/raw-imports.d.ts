// Vite's `?raw` imports, used by tests to load recorded streams inside workerd.
declare module "*?raw" {
  const text: string;
  export default text;
}
