/**
 * Twilio's REST API over plain `fetch` (the `twilio` npm package costs ~160 ms
 * of cold start and stays in the tests). This module knows the wire format:
 * `{base}/2010-04-01/Accounts/{AccountSid}/….json`, form-encoded bodies,
 * HTTP basic auth, Twilio's error body and `next_page_uri` paging, and it
 * classifies failures so callers know whether Twilio may have acted.
 *
 * Twilio has no idempotency header: a POST that timed out or got a 5xx may
 * have bought the number anyway. Only 429 (refused before acting), GET and
 * DELETE are retried here; everything else is the caller's to reconcile.
 */

/** How a Twilio failure should be handled. */
export type TwilioErrorClass = "permanent" | "transient" | "compliance";

/** Refusals that will not change on retry (bad or unavailable number, bad request). */
const PERMANENT_CODES = new Set([20404, 21421, 21422, 21450, 21451, 21452, 21401, 21404, 20003]);
/** Twilio's own overload and outage codes. */
const TRANSIENT_CODES = new Set([20429, 20500, 20503]);
/** Regulatory: an address or a bundle must be filed before this number can be bought. */
const COMPLIANCE_CODES = new Set([21631, 21649, 21615, 21620]);

/** Classifies a failure by Twilio's error code, else by HTTP status (0: no answer). */
export function classifyTwilioError(status: number, code: number | undefined): TwilioErrorClass {
  if (code !== undefined && COMPLIANCE_CODES.has(code)) return "compliance";
  if (code !== undefined && TRANSIENT_CODES.has(code)) return "transient";
  if (code !== undefined && PERMANENT_CODES.has(code)) return "permanent";
  if (status === 0 || status === 429 || status >= 500) return "transient";
  return "permanent";
}

/** A failed Twilio request, with Twilio's error body when it sent one. */
export class TwilioRestError extends Error {
  override name = "TwilioRestError";
  constructor(
    message: string,
    readonly details: {
      method: string;
      path: string;
      /** HTTP status; 0 when no answer came (timeout, dropped connection). */
      status: number;
      code?: number;
      moreInfo?: string;
      errorClass: TwilioErrorClass;
      /** True when Twilio may have acted although we got no success (POST timeout, 5xx, drop). */
      outcomeUnknown: boolean;
    },
  ) {
    super(message);
  }
  get status(): number {
    return this.details.status;
  }
  get code(): number | undefined {
    return this.details.code;
  }
}

export interface TwilioRestOptions {
  /** TWILIO_API_BASE_URL, e.g. https://api.twilio.com (no trailing path). */
  baseUrl: string;
  accountSid: string;
  authToken: string;
  /** A Main API key, used instead of the auth token when both parts are set. */
  apiKeySid?: string;
  apiKeySecret?: string;
  /** Per-request timeout; kept under 20 s so a step fits in its lease. */
  timeoutMs?: number;
  /** Attempts for requests that may be retried blindly (GET, DELETE, 429). */
  attempts?: number;
}

export type TwilioResource = Record<string, unknown>;

const API_VERSION = "/2010-04-01";
export const DEFAULT_TWILIO_TIMEOUT_MS = 8_000;
/**
 * One call, retries included, gives up within this: a runner renews its
 * 30 s lease between calls, so no call may outlast the lease.
 */
export const TWILIO_CALL_BUDGET_MS = 20_000;

/** `/2010-04-01/Accounts/{sid}/{resource}.json` (resource may be empty: the account itself). */
export function accountPath(accountSid: string, resource = ""): string {
  return resource
    ? `${API_VERSION}/Accounts/${accountSid}/${resource}.json`
    : `${API_VERSION}/Accounts/${accountSid}.json`;
}

/** `/2010-04-01/Accounts.json`: the account list (subaccounts of the caller). */
export const ACCOUNTS_PATH = `${API_VERSION}/Accounts.json`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client for one set of credentials; cheap to create. */
export class TwilioRestClient {
  readonly #base: string;
  readonly #authorization: string;
  readonly #timeoutMs: number;
  readonly #attempts: number;
  readonly accountSid: string;

  constructor(options: TwilioRestOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, "");
    this.accountSid = options.accountSid;
    const user = options.apiKeySid && options.apiKeySecret
      ? `${options.apiKeySid}:${options.apiKeySecret}`
      : `${options.accountSid}:${options.authToken}`;
    this.#authorization = `Basic ${btoa(user)}`;
    this.#timeoutMs = Math.min(options.timeoutMs ?? DEFAULT_TWILIO_TIMEOUT_MS, 19_000);
    this.#attempts = Math.max(1, options.attempts ?? 3);
  }

  /** GET a resource or a page; `query` is added to the path. */
  get(path: string, query: Record<string, string> = {}): Promise<TwilioResource> {
    const qs = new URLSearchParams(query).toString();
    return this.request("GET", qs ? `${path}?${qs}` : path);
  }

  /** POST form parameters (create or update). Never retried unless Twilio answered 429. */
  post(path: string, form: Record<string, string>): Promise<TwilioResource> {
    return this.request("POST", path, new URLSearchParams(form));
  }

  /** DELETE a resource. Resolves false when it was already gone (404). */
  async delete(path: string): Promise<boolean> {
    try {
      await this.request("DELETE", path);
      return true;
    } catch (e) {
      if (e instanceof TwilioRestError && e.status === 404) return false;
      throw e;
    }
  }

  /** Every item of a list read, following `next_page_uri` (at most `maxPages` pages). */
  async list(
    path: string,
    key: string,
    query: Record<string, string> = {},
    maxPages = 20,
  ): Promise<TwilioResource[]> {
    const items: TwilioResource[] = [];
    let page = await this.get(path, query);
    for (let n = 1;; n++) {
      items.push(...((page[key] as TwilioResource[] | undefined) ?? []));
      const next = page.next_page_uri;
      if (typeof next !== "string" || !next || n >= maxPages) return items;
      page = await this.request("GET", next);
    }
  }

  /** One request with the retry rule: GET/DELETE on any transient failure, any method on 429. */
  async request(method: string, pathAndQuery: string, form?: URLSearchParams) {
    const started = performance.now();
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#once(method, pathAndQuery, form);
      } catch (e) {
        if (!(e instanceof TwilioRestError) || attempt >= this.#attempts) throw e;
        const elapsed = performance.now() - started;
        if (elapsed + this.#timeoutMs > TWILIO_CALL_BUDGET_MS) throw e;
        const blindlySafe = method === "GET" || method === "DELETE";
        if (e.status === 429 || (blindlySafe && e.details.errorClass === "transient")) {
          await sleep(Math.min(100 * 2 ** (attempt - 1), 1_000));
          continue;
        }
        throw e;
      }
    }
  }

  async #once(
    method: string,
    pathAndQuery: string,
    form?: URLSearchParams,
  ): Promise<TwilioResource> {
    const path = pathAndQuery.split("?")[0];
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.#base}${pathAndQuery}`, {
        method,
        headers: {
          authorization: this.#authorization,
          accept: "application/json",
          ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
        },
        body: form?.toString(),
        signal: controller.signal,
      });
      text = await res.text();
    } catch (e) {
      // No answer, or a cut-off answer: Twilio may have acted on a POST.
      const timedOut = controller.signal.aborted;
      throw new TwilioRestError(
        timedOut
          ? `Twilio did not answer ${method} ${path} within ${this.#timeoutMs} ms`
          : `Twilio connection failed on ${method} ${path}: ${(e as Error).message}`,
        { method, path, status: 0, errorClass: "transient", outcomeUnknown: method !== "GET" },
      );
    } finally {
      clearTimeout(timer);
    }
    let body: TwilioResource = {};
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      // A proxy's HTML error page: keep the status, there is no Twilio code.
    }
    if (res.ok) return body;
    const code = typeof body.code === "number" ? body.code : undefined;
    const errorClass = classifyTwilioError(res.status, code);
    throw new TwilioRestError(
      `Twilio ${method} ${path} failed: ${res.status}${code ? ` (${code})` : ""} ${
        typeof body.message === "string" ? body.message : ""
      }`.trim(),
      {
        method,
        path,
        status: res.status,
        code,
        moreInfo: typeof body.more_info === "string" ? body.more_info : undefined,
        errorClass,
        // A 5xx may come after the work was done; a 4xx is a refusal.
        outcomeUnknown: res.status >= 500 && method !== "GET",
      },
    );
  }
}
