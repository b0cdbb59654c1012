/**
 * A local HTTP stand-in for the parts of Twilio's REST API provisioning uses:
 * AvailablePhoneNumbers, IncomingPhoneNumbers (create, list with filters,
 * fetch, update, delete), Accounts (create, list by FriendlyName, fetch,
 * update Status=closed), Recordings (fetch, delete). It speaks the wire format (`.json` paths,
 * form-encoded bodies, HTTP basic auth, Twilio's error body, `next_page_uri`
 * paging) and injects faults per request:
 *
 * - fail:  answer an error (status, Twilio code) without acting;
 * - hang:  never answer (until the client gives up), without acting;
 * - drop:  act, then cut the connection before the answer is complete.
 *
 * It counts what it did (`effects`), so tests can prove nothing happened twice.
 */

export type Fault =
  | { kind: "fail"; status: number; code: number }
  | { kind: "hang" }
  | { kind: "drop" }
  /** Act, then never answer: a process killed mid-call after Twilio acted. */
  | { kind: "act-hang" }
  /** Wait `ms`, then act and answer: a slow Twilio (the caller's timeout permitting). */
  | { kind: "delay"; ms: number };

export interface NumberResource {
  sid: string;
  account_sid: string;
  phone_number: string;
  friendly_name: string;
  voice_url: string | null;
  voice_method: string;
  voice_fallback_url: string | null;
  status_callback: string | null;
  sms_url: string | null;
}

export interface AccountResource {
  sid: string;
  owner_account_sid: string;
  friendly_name: string;
  status: "active" | "suspended" | "closed";
  auth_token: string;
}

export interface RecordingResource {
  sid: string;
  account_sid: string;
  call_sid: string;
}

export interface RequestRecord {
  n: number;
  method: string;
  path: string;
  fault?: Fault["kind"];
}

const hex = (n: number) =>
  [...crypto.getRandomValues(new Uint8Array(n / 2))].map((b) => b.toString(16).padStart(2, "0"))
    .join("");

export class TwilioStandIn {
  readonly mainSid: string;
  readonly mainToken: string;
  readonly numbers = new Map<string, NumberResource>();
  /** Recordings by RecordingSid (add them with addRecording). */
  readonly recordings = new Map<string, RecordingResource>();
  readonly accounts = new Map<string, AccountResource>();
  /** Numbers someone else bought meanwhile: buying them fails with 21422. */
  readonly takenElsewhere = new Set<string>();
  /** Area codes with no numbers left. */
  readonly exhaustedAreaCodes = new Set<string>();
  /** What the stand-in actually did. */
  readonly effects = {
    numbersBought: 0,
    /** Purchases per FriendlyName (one transaction's tag): never more than one. */
    boughtByTag: new Map<string, number>(),
    numbersReleased: new Map<string, number>(),
    accountsCreated: 0,
    accountsClosed: new Map<string, number>(),
    webhooksSet: 0,
    /** Recordings deleted, per RecordingSid: never more than one. */
    recordingsDeleted: new Map<string, number>(),
  };
  readonly requests: RequestRecord[] = [];
  /** Page size for list reads when the request gives none (small, so paging is exercised). */
  defaultPageSize = 50;
  /** Milliseconds every request waits before it is handled (to make concurrent clients overlap). */
  latencyMs = 0;
  #faults = new Map<number, Fault>();
  #patternFaults: { method: string; path: RegExp; fault: Fault; times: number }[] = [];
  #count = 0;
  #server!: Deno.HttpServer;
  #hanging = new Set<() => void>();
  url = "";

  /** A main account with random credentials, or the ones given (e.g. the functions' .env). */
  constructor(main: { sid?: string; token?: string } = {}) {
    this.mainSid = main.sid ?? "AC" + hex(32);
    this.mainToken = main.token ?? hex(32);
  }

  /** A recording Twilio holds for `accountSid` (the main account by default). */
  addRecording(callSid: string, accountSid = this.mainSid): RecordingResource {
    const recording = { sid: "RE" + hex(32), account_sid: accountSid, call_sid: callSid };
    this.recordings.set(recording.sid, recording);
    return recording;
  }

  start(): this {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) => this.#handle(req),
    );
    this.url = `http://127.0.0.1:${(this.#server.addr as Deno.NetAddr).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const release of this.#hanging) release();
    await this.#server.shutdown();
  }

  /** Injects `fault` at the n-th request from now (1 = the next one). */
  faultAt(n: number, fault: Fault): void {
    this.#faults.set(this.#count + n, fault);
  }

  /** Injects `fault` on the next `times` requests matching method and path. */
  faultOn(method: string, path: RegExp, fault: Fault, times = 1): void {
    this.#patternFaults.push({ method, path, fault, times });
  }

  clearFaults(): void {
    this.#faults.clear();
    this.#patternFaults = [];
  }

  /** How many requests it has seen. */
  get requestCount(): number {
    return this.#count;
  }

  /** Numbers it holds (bought and not released). */
  ownedNumbers(): NumberResource[] {
    return [...this.numbers.values()];
  }

  #error(status: number, code: number, message: string): Response {
    return Response.json({
      code,
      message,
      more_info: `https://www.twilio.com/docs/errors/${code}`,
      status,
    }, { status });
  }

  #authorized(req: Request): boolean {
    const expected = `Basic ${btoa(`${this.mainSid}:${this.mainToken}`)}`;
    return req.headers.get("authorization") === expected;
  }

  #knownAccount(sid: string): boolean {
    return sid === this.mainSid || this.accounts.has(sid);
  }

  async #handle(req: Request): Promise<Response> {
    const n = ++this.#count;
    const url = new URL(req.url);
    const record: RequestRecord = { n, method: req.method, path: url.pathname };
    this.requests.push(record);
    const form = req.method === "POST"
      ? new URLSearchParams(await req.text())
      : new URLSearchParams();
    if (
      req.method === "POST" &&
      !/^application\/x-www-form-urlencoded/.test(req.headers.get("content-type") ?? "")
    ) {
      return this.#error(400, 20001, "Content-Type must be application/x-www-form-urlencoded");
    }
    if (!this.#authorized(req)) return this.#error(401, 20003, "Authenticate");
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));

    let fault = this.#faults.get(n);
    this.#faults.delete(n);
    if (!fault) {
      const rule = this.#patternFaults.find((r) =>
        r.times > 0 && r.method === req.method && r.path.test(url.pathname)
      );
      if (rule) {
        rule.times--;
        fault = rule.fault;
      }
    }
    record.fault = fault?.kind;
    if (fault?.kind === "fail") return this.#error(fault.status, fault.code, "Injected failure");
    if (fault?.kind === "hang") {
      // Held until the client gives up (or the stand-in stops); nothing is done.
      await this.#holdUntilAbort(req);
      return new Response(null, { status: 504 });
    }
    if (fault?.kind === "delay") await new Promise((r) => setTimeout(r, fault.ms));
    const res = this.#route(req.method, url, form);
    if (fault?.kind === "act-hang") {
      await this.#holdUntilAbort(req);
      return new Response(null, { status: 504 });
    }
    if (fault?.kind === "drop") {
      // The work is done; the answer is cut off after its headers.
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"sid": "PN'));
          controller.error(new Error("connection dropped"));
        },
      });
      // (A 204 cannot carry the partial body that makes the cut visible: send it as 200.)
      const status = res.status === 204 ? 200 : res.status;
      return new Response(body, { status, headers: { "content-type": "application/json" } });
    }
    return res;
  }

  #holdUntilAbort(req: Request): Promise<void> {
    return new Promise<void>((resolve) => {
      const release = () => {
        this.#hanging.delete(release);
        resolve();
      };
      this.#hanging.add(release);
      req.signal.addEventListener("abort", release);
    });
  }

  /** Requests being held open now (hang and act-hang faults). */
  get hangingCount(): number {
    return this.#hanging.size;
  }

  #route(method: string, url: URL, form: URLSearchParams): Response {
    const path = url.pathname;
    let m: RegExpMatchArray | null;
    if (path === "/2010-04-01/Accounts.json") {
      if (method === "POST") return this.#createAccount(form);
      if (method === "GET") {
        const name = url.searchParams.get("FriendlyName");
        const list = [...this.accounts.values()].filter((a) => !name || a.friendly_name === name);
        return this.#page(url, "accounts", list);
      }
    }
    if ((m = path.match(/^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\.json$/))) {
      const account = this.accounts.get(m[1]);
      if (!account) return this.#error(404, 20404, "The requested resource was not found");
      if (method === "GET") return Response.json(account);
      if (method === "POST") {
        const status = form.get("Status");
        if (status === "closed" && account.status !== "closed") {
          account.status = "closed";
          this.effects.accountsClosed.set(
            account.sid,
            (this.effects.accountsClosed.get(account.sid) ?? 0) + 1,
          );
          // Closing an account releases its numbers.
          for (const [sid, num] of this.numbers) {
            if (num.account_sid === account.sid) this.numbers.delete(sid);
          }
        }
        return Response.json(account);
      }
    }
    if (!(m = path.match(/^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/(.+)\.json$/))) {
      return this.#error(404, 20404, "The requested resource was not found");
    }
    const [, accountSid, rest] = m;
    if (!this.#knownAccount(accountSid)) return this.#error(404, 20404, "Account not found");
    if (this.accounts.get(accountSid)?.status === "closed") {
      return this.#error(401, 20005, "Account is not active");
    }
    if ((m = rest.match(/^AvailablePhoneNumbers\/([A-Z]{2})\/Local$/)) && method === "GET") {
      const areaCode = url.searchParams.get("AreaCode") ?? "587";
      const size = Number(url.searchParams.get("PageSize") ?? 20);
      const owned = new Set([...this.numbers.values()].map((x) => x.phone_number));
      const available = this.exhaustedAreaCodes.has(areaCode) ? [] : Array.from(
        { length: 400 },
        (_, i) => `+1${areaCode}555${String(i).padStart(4, "0")}`,
      ).filter((p) => !owned.has(p) && !this.takenElsewhere.has(p)).slice(0, size);
      return Response.json({
        available_phone_numbers: available.map((p) => ({
          phone_number: p,
          region: "AB",
          iso_country: m![1],
        })),
        uri: url.pathname + url.search,
      });
    }
    if (rest === "IncomingPhoneNumbers") {
      if (method === "POST") return this.#buy(accountSid, form);
      if (method === "GET") {
        const phone = url.searchParams.get("PhoneNumber");
        const name = url.searchParams.get("FriendlyName");
        const list = [...this.numbers.values()].filter((x) =>
          x.account_sid === accountSid && (!phone || x.phone_number === phone) &&
          (!name || x.friendly_name === name)
        );
        return this.#page(url, "incoming_phone_numbers", list);
      }
    }
    if ((m = rest.match(/^Recordings\/(RE[0-9a-f]{32})$/))) {
      return this.#ownedResource(
        method,
        accountSid,
        this.recordings,
        m[1],
        this.effects.recordingsDeleted,
      ) ??
        this.#error(404, 20404, "The requested resource was not found");
    }
    if ((m = rest.match(/^IncomingPhoneNumbers\/(PN[0-9a-f]{32})$/))) {
      const answered = this.#ownedResource(
        method,
        accountSid,
        this.numbers,
        m[1],
        this.effects.numbersReleased,
      );
      if (answered) return answered;
      const num = this.numbers.get(m[1])!;
      if (method === "POST") {
        const fields: [keyof NumberResource, string][] = [
          ["voice_url", "VoiceUrl"],
          ["voice_fallback_url", "VoiceFallbackUrl"],
          ["status_callback", "StatusCallback"],
          ["sms_url", "SmsUrl"],
          ["friendly_name", "FriendlyName"],
        ];
        for (const [field, param] of fields) {
          if (form.has(param)) (num as unknown as Record<string, string>)[field] = form.get(param)!;
        }
        this.effects.webhooksSet++;
        return Response.json(num);
      }
    }
    return this.#error(404, 20404, "The requested resource was not found");
  }

  /**
   * GET or DELETE of a resource an account owns (404 when another account
   * owns it); DELETE counts in `deletions`. Undefined for other methods.
   */
  #ownedResource(
    method: string,
    accountSid: string,
    resources: Map<string, { sid: string; account_sid: string }>,
    sid: string,
    deletions: Map<string, number>,
  ): Response | undefined {
    const resource = resources.get(sid);
    if (!resource || resource.account_sid !== accountSid) {
      return this.#error(404, 20404, "The requested resource was not found");
    }
    if (method === "GET") return Response.json(resource);
    if (method !== "DELETE") return undefined;
    resources.delete(sid);
    deletions.set(sid, (deletions.get(sid) ?? 0) + 1);
    return new Response(null, { status: 204 });
  }

  #createAccount(form: URLSearchParams): Response {
    const account: AccountResource = {
      sid: "AC" + hex(32),
      owner_account_sid: this.mainSid,
      friendly_name: form.get("FriendlyName") ??
        "SubAccount Created at " + new Date().toISOString(),
      status: "active",
      auth_token: hex(32),
    };
    if (account.friendly_name.length > 64) {
      return this.#error(400, 21601, "FriendlyName is too long");
    }
    this.accounts.set(account.sid, account);
    this.effects.accountsCreated++;
    return Response.json(account, { status: 201 });
  }

  #buy(accountSid: string, form: URLSearchParams): Response {
    const phone = form.get("PhoneNumber") ?? "";
    if (!/^\+[1-9]\d{7,14}$/.test(phone)) return this.#error(400, 21421, "PhoneNumber is invalid");
    const friendlyName = form.get("FriendlyName") ?? phone;
    if (friendlyName.length > 64) return this.#error(400, 21601, "FriendlyName is too long");
    const owned = [...this.numbers.values()].some((x) => x.phone_number === phone);
    if (owned || this.takenElsewhere.has(phone)) {
      return this.#error(400, 21422, "PhoneNumber is not available");
    }
    const num: NumberResource = {
      sid: "PN" + hex(32),
      account_sid: accountSid,
      phone_number: phone,
      friendly_name: friendlyName,
      voice_url: form.get("VoiceUrl"),
      voice_method: "POST",
      voice_fallback_url: null,
      status_callback: null,
      sms_url: null,
    };
    this.numbers.set(num.sid, num);
    this.effects.numbersBought++;
    this.effects.boughtByTag.set(
      friendlyName,
      (this.effects.boughtByTag.get(friendlyName) ?? 0) + 1,
    );
    return Response.json(num, { status: 201 });
  }

  /** Twilio's list page, with next_page_uri when more items remain. */
  #page(url: URL, key: string, items: unknown[]): Response {
    const size = Number(url.searchParams.get("PageSize") ?? this.defaultPageSize);
    const page = Number(url.searchParams.get("Page") ?? 0);
    const slice = items.slice(page * size, (page + 1) * size);
    let next: string | null = null;
    if ((page + 1) * size < items.length) {
      const q = new URLSearchParams(url.searchParams);
      q.set("Page", String(page + 1));
      q.set("PageSize", String(size));
      q.set("PageToken", `PT${page + 1}`);
      next = `${url.pathname}?${q}`;
    }
    return Response.json({
      [key]: slice,
      page,
      page_size: size,
      uri: url.pathname + url.search,
      next_page_uri: next,
    });
  }
}
