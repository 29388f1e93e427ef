/** `"a"` or `["a","b"]`, for error messages (internal). */
export function describe(resources: readonly string[]): string {
  return resources.length === 1 ? JSON.stringify(resources[0]) : JSON.stringify(resources);
}
