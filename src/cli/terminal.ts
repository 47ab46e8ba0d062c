// What the terminal may receive: colour (NO_COLOR, FORCE_COLOR, TERM=dumb, a TTY) and cursor
// control (spinners, prompts that redraw), decided once from the environment for every command.

type Env = Record<string, string | undefined>;

/**
 * Whether to colour output for a stream. NO_COLOR (any non-empty value, no-color.org) wins;
 * a non-empty FORCE_COLOR forces it on, even into a pipe, unless it is `0` or `false`; TERM=dumb and a
 * stream that is not a terminal get none.
 * @example colourWanted({ TERM: "dumb" }, true) // false
 * @example colourWanted({ FORCE_COLOR: "1" }, false) // true
 */
export function colourWanted(env: Env, isTTY: boolean): boolean {
  if (env.NO_COLOR) return false;
  const force = env.FORCE_COLOR;
  if (force) return force !== "0" && force !== "false";
  return isTTY && env.TERM !== "dumb";
}

/**
 * Whether a terminal understands cursor movement (hide, redraw a line). A dumb terminal does
 * not: it gets plain lines, no spinner, and questions asked line by line. NO_COLOR is about
 * colour only, so a spinner without colour still runs under it.
 * @example cursorControl({ TERM: "dumb" }, true) // false
 */
export function cursorControl(env: Env, isTTY: boolean): boolean {
  return isTTY && env.TERM !== "dumb";
}
