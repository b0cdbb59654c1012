/**
 * What the running local stack wrote about itself (.local/stack.json), so the
 * tools that talk to it (`deno task call`, the benchmarks) reach the stack
 * that is actually running, on whatever ports it chose, and sign requests the
 * way it checks them.
 */

export interface StackState {
  /** The functions server's process. */
  pid: number;
  /** Where the functions answer: http://127.0.0.1:<port>/functions/v1 */
  functionsUrl: string;
  /** The URL the functions verify signatures against (PUBLIC_BASE_URL). */
  publicBaseUrl: string;
  /** The database the functions use. */
  dbUrl: string;
  /** The env file the functions read. */
  envFile: string;
}

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
/** .local/stack.json; HOTLINE_STACK_STATE names another file (the tests' stacks). */
export const STACK_STATE_PATH = Deno.env.get("HOTLINE_STACK_STATE") ?? `${ROOT}/.local/stack.json`;

/**
 * Written once every function has answered; readable by its owner only (it
 * holds the DB URL). Written aside and renamed into place: whoever sees the
 * file (scripts/start waits for it) sees all of it.
 */
export function writeStackState(state: StackState, path = STACK_STATE_PATH): void {
  Deno.mkdirSync(path.replace(/\/[^/]+$/, ""), { recursive: true });
  const partial = `${path}.${Deno.pid}.tmp`;
  Deno.writeTextFileSync(partial, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  Deno.renameSync(partial, path);
}

export function removeStackState(path = STACK_STATE_PATH): void {
  try {
    Deno.removeSync(path);
  } catch { /* already gone */ }
}

/** The running stack's state, or an error that says how to start one. */
export function readStackState(path = STACK_STATE_PATH): StackState {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error("no local stack is running (start it with scripts/start)");
    }
    throw e;
  }
  return JSON.parse(text) as StackState;
}
