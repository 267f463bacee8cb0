/* Lines the in-host suites want in the report (measurements): collected here, written by index.ts. */
export const notes: string[] = [];

export function note(line: string): void {
  notes.push(line);
  console.log(line);
}
