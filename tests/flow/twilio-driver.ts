/**
 * A Twilio stand-in for the voice webhooks: it places a call the way Twilio
 * does, signs every request with the auth token (using the `twilio` package,
 * independent of the code under test), runs the returned TwiML verb by verb,
 * and posts the callbacks. Time is simulated: a Gather timeout costs nothing.
 *
 * Modelled Twilio behaviour (../shared/twilio-facts.md):
 * - form-encoded POSTs with the standard call parameters, X-Twilio-Signature
 *   and a fresh I-Twilio-Idempotency-Token per webhook (kept on redelivery);
 * - relative URLs resolve against the URL of the document that holds them;
 * - Gather: numDigits, finishOnKey, timeout; without input it falls through
 *   to the next verb unless actionOnEmptyResult="true"; action defaults to
 *   the document's URL;
 * - Dial: each <Number url> runs the agent's TwiML on a leg of its own (its
 *   own CallSid, ParentCallSid) before connecting; an agent leg that hangs up
 *   at screening is reported as DialCallStatus=completed, as Twilio reports an
 *   answered leg (the product must not take that for a conversation);
 * - Record: posts its action with RecordingSid/Url/Duration (also when the
 *   caller hangs up while recording), then recordingStatusCallback and
 *   transcribeCallback, in the order the scenario chooses. Twilio orders none
 *   of the three: `transcription: "first"` posts the transcription before
 *   the action itself. The transcription carries the recording's SID and URL
 *   but no RecordingDuration, as Twilio's does;
 * - end of document, <Hangup>, <Reject>: the call ends; a non-200 answer or
 *   unparseable TwiML sends Twilio to the Fallback URL with ErrorCode
 *   11200 / 12100;
 * - status callbacks (ringing, answered, completed) after the call.
 */
import twilio from "twilio";
import { XMLParser, XMLValidator } from "fast-xml-parser";

export type CallerAction =
  | { press: string }
  | { silence: true }
  | { hangup: true }
  /** Speak into a <Record> for n seconds, then press # (or hang up). */
  | { speak: number; thenHangup?: boolean };

export type AgentBehaviour =
  | "accepts"
  /** Accepts at screening by pressing # (which a Gather's default finishOnKey swallows). */
  | "accepts-with-hash"
  | "declines"
  | "busy"
  | "no-answer"
  | "fails";

export interface CallOptions {
  from?: string;
  to?: string;
  /** What the caller does, in order; an exhausted script hangs up. */
  script?: CallerAction[];
  agent?: AgentBehaviour;
  /** Order of the recording callbacks after a <Record> ("first": before Record's action too). */
  transcription?: "first" | "before-recording-callback" | "after-recording-callback" | "none";
  /** Post status callbacks (ringing, answered, completed) to voice-status. */
  statusCallbacks?: boolean;
  /**
   * Post the recording callbacks after `call` returns, as Twilio does once the
   * call is over (`CallResult.callbacks` settles when they are answered); the
   * next call need not wait for their retries. No status callbacks then.
   */
  backgroundCallbacks?: boolean;
  /** Asked when the script runs out (an interactive caller); default: hang up. */
  ask?: (moment: "gather" | "record") => Promise<CallerAction>;
  /** Told each thing the caller hears, as it happens. */
  onHear?: (text: string) => void;
}

export interface Exchange {
  url: string;
  params: Record<string, string>;
  token: string;
  status: number;
  body: string;
  /** Deliveries it took: more than one when a 5xx made Twilio retry (`#rc=`). */
  attempts?: number;
  /** Milliseconds from the first delivery to the answer used (retries included). */
  ms?: number;
}

export interface CallResult {
  callSid: string;
  /** What the caller heard, in order (Say text; [beep] for a Record). */
  heard: string[];
  exchanges: Exchange[];
  /** How the call ended. */
  end: "completed" | "rejected" | "caller-hung-up";
  /** Numbers the Dial rang and whether the Dial asked for recording. */
  dials: { number: string; record: string | undefined; callerId: string | undefined }[];
  /** The final CallStatus Twilio would report. */
  finalStatus: string;
  /** With `backgroundCallbacks`: settles once the recording callbacks are answered. */
  callbacks?: Promise<void>;
}

interface Node {
  verb: string;
  attrs: Record<string, string>;
  children: Node[];
  text: string;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
});

/** Parses a TwiML document into verbs; throws on anything Twilio would refuse (12100). */
export function parseTwiml(xml: string): Node[] {
  if (XMLValidator.validate(xml) !== true) throw new Error("unparseable TwiML");
  const toNodes = (items: Record<string, unknown>[]): Node[] =>
    items.filter((item) => !("#text" in item) && !("?xml" in item)).map((item) => {
      const verb = Object.keys(item).find((k) => k !== ":@")!;
      const children = item[verb] as Record<string, unknown>[];
      const text = children.filter((c) => "#text" in c).map((c) => String(c["#text"])).join("");
      return {
        verb,
        attrs: (item[":@"] ?? {}) as Record<string, string>,
        children: toNodes(children),
        text,
      };
    });
  const doc = toNodes(parser.parse(xml));
  const response = doc.find((n) => n.verb === "Response");
  if (!response) throw new Error("TwiML without <Response>");
  return response.children;
}

export const randomSid = (prefix: string) => prefix + crypto.randomUUID().replaceAll("-", "");

export class TwilioDriver {
  readonly baseUrl: string;
  readonly authToken: string;
  readonly accountSid: string;
  /** Where a request for a public URL really goes (a function run alone, behind no gateway). */
  readonly route: (url: string) => string;
  /** Pause between Twilio's retries of a failed webhook. */
  readonly retryDelayMs: number;
  constructor(
    opts: {
      baseUrl: string;
      authToken: string;
      accountSid: string;
      route?: (url: string) => string;
      retryDelayMs?: number;
    },
  ) {
    this.retryDelayMs = opts.retryDelayMs ?? 100;
    this.baseUrl = opts.baseUrl.replace(/\/$/, "");
    this.authToken = opts.authToken;
    this.accountSid = opts.accountSid;
    this.route = opts.route ?? ((url) => url);
  }

  /** The absolute URL of a function slug (with an optional query string). */
  url(slugAndQuery: string): string {
    return `${this.baseUrl}/${slugAndQuery}`;
  }

  /** One signed webhook, as Twilio sends it. */
  async post(
    url: string,
    params: Record<string, string>,
    opts: { token?: string; signature?: string } = {},
  ): Promise<Exchange> {
    const token = opts.token ?? crypto.randomUUID();
    // Twilio reads connection overrides (`#rc=…&rp=…`) from the fragment and
    // never sends it: the URL it signs and requests has none.
    const [requestUrl, fragment = ""] = url.split("#");
    const signature = opts.signature ??
      twilio.getExpectedTwilioSignature(this.authToken, requestUrl, params);
    // A retry is the same webhook again: same signature, same idempotency token.
    const retries = Math.min(5, Number(new URLSearchParams(fragment).get("rc") ?? 0));
    const retryOn5xx = (new URLSearchParams(fragment).get("rp") ?? "").split(",")
      .some((p) => p === "5xx" || p === "all");
    const started = performance.now();
    for (let attempt = 0;; attempt++) {
      const res = await fetch(this.route(requestUrl), {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-twilio-signature": signature,
          "i-twilio-idempotency-token": token,
          "user-agent": "TwilioProxy/1.1",
        },
        body: new URLSearchParams(params),
      });
      const body = await res.text();
      if (res.status >= 500 && retryOn5xx && attempt < retries) {
        await new Promise((r) => setTimeout(r, this.retryDelayMs));
        continue;
      }
      const ms = Math.round(performance.now() - started);
      return {
        url: requestUrl,
        params,
        token,
        status: res.status,
        body,
        attempts: attempt + 1,
        ms,
      };
    }
  }

  /** Places a call to the hotline and runs it to its end. */
  async call(opts: CallOptions = {}): Promise<CallResult> {
    const callSid = randomSid("CA");
    const from = opts.from ?? "+15875550000";
    const to = opts.to ?? "+15877428885";
    const script = [...(opts.script ?? [])];
    const next = async (moment: "gather" | "record"): Promise<CallerAction> =>
      script.shift() ?? (opts.ask ? await opts.ask(moment) : { hangup: true });
    const hear = (text: string) => {
      result.heard.push(text);
      opts.onHear?.(text);
    };
    const result: CallResult = {
      callSid,
      heard: [],
      exchanges: [],
      end: "completed",
      dials: [],
      finalStatus: "completed",
    };
    const base: Record<string, string> = {
      AccountSid: this.accountSid,
      ApiVersion: "2010-04-01",
      CallSid: callSid,
      CallStatus: "ringing",
      Called: to,
      Caller: from,
      Direction: "inbound",
      From: from,
      To: to,
    };
    const pendingCallbacks: { url: string; params: Record<string, string> }[] = [];
    let answered = false;

    const fetchTwiml = async (
      url: string,
      extra: Record<string, string>,
    ): Promise<Node[] | null> => {
      let exchange = await this.post(url, { ...base, ...extra });
      result.exchanges.push(exchange);
      let verbs: Node[] | null = null;
      try {
        if (exchange.status === 200) verbs = parseTwiml(exchange.body);
      } catch { /* 12100 below */ }
      if (verbs) return verbs;
      // Twilio's Fallback URL for this number.
      const errorCode = exchange.status === 200 ? "12100" : "11200";
      exchange = await this.post(this.url("voice-fallback"), {
        ...base,
        ...extra,
        ErrorCode: errorCode,
        ErrorUrl: url,
      });
      result.exchanges.push(exchange);
      return exchange.status === 200 ? parseTwiml(exchange.body) : null;
    };

    let url: string | null = this.url("voice-frontdoor");
    let extra: Record<string, string> = {};
    documents: while (url) {
      const docUrl: string = url;
      const verbs = await fetchTwiml(docUrl, extra);
      url = null;
      extra = {};
      if (!verbs) break;
      if (!answered && verbs.some((v) => v.verb !== "Reject")) {
        answered = true;
        base.CallStatus = "in-progress";
      }
      for (const verb of verbs) {
        const resolve = (u: string | undefined) => new URL(u ?? docUrl, docUrl).toString();
        switch (verb.verb) {
          case "Say":
            hear(verb.text);
            break;
          case "Play":
            hear(`[play ${verb.text}]`);
            break;
          case "Pause":
            break;
          case "Gather": {
            for (const child of verb.children) {
              if (child.verb === "Say") hear(child.text);
            }
            const action = await next("gather");
            if ("hangup" in action) {
              result.end = "caller-hung-up";
              break documents;
            }
            if ("press" in action) {
              url = resolve(verb.attrs.action);
              const finish = verb.attrs.finishOnKey ?? "#";
              const pressed = finish && action.press.endsWith(finish)
                ? action.press.slice(0, -1)
                : action.press;
              extra = { Digits: pressed, FinishedOnKey: pressed === action.press ? "" : finish };
              continue documents;
            }
            if ("silence" in action || "speak" in action) {
              if (verb.attrs.actionOnEmptyResult === "true") {
                url = resolve(verb.attrs.action);
                extra = { Digits: "", FinishedOnKey: "" };
                continue documents;
              }
              break; // falls through to the next verb
            }
            break;
          }
          case "Dial": {
            const outcome = await this.#dial(
              verb,
              docUrl,
              base,
              callSid,
              opts.agent ?? "no-answer",
              result,
            );
            if (verb.attrs.action) {
              url = resolve(verb.attrs.action);
              extra = outcome;
              continue documents;
            }
            break;
          }
          case "Record": {
            hear("[beep]");
            const action = await next("record");
            if (!("speak" in action)) {
              // Hung up (or said nothing) at the beep: no recording, no action.
              result.end = "caller-hung-up";
              break documents;
            }
            const recordingSid = randomSid("RE");
            const recording = {
              RecordingSid: recordingSid,
              RecordingUrl:
                `https://api.twilio.com/2010-04-01/Accounts/${this.accountSid}/Recordings/${recordingSid}`,
              RecordingDuration: String(action.speak),
            };
            const callbacks = [];
            if (verb.attrs.recordingStatusCallback) {
              callbacks.push({
                url: resolve(verb.attrs.recordingStatusCallback),
                params: {
                  ...recording,
                  RecordingStatus: "completed",
                  RecordingChannels: "1",
                  RecordingSource: "RecordVerb",
                },
              });
            }
            if (
              verb.attrs.transcribe === "true" && verb.attrs.transcribeCallback &&
              opts.transcription !== "none"
            ) {
              const transcription = {
                url: resolve(verb.attrs.transcribeCallback),
                params: {
                  RecordingSid: recording.RecordingSid,
                  RecordingUrl: recording.RecordingUrl,
                  TranscriptionSid: randomSid("TR"),
                  TranscriptionStatus: "completed",
                  TranscriptionText:
                    "Hi, this is a test caller. Please call me back about my order.",
                  TranscriptionType: "fast",
                  TranscriptionUrl:
                    `https://api.twilio.com/2010-04-01/Accounts/${this.accountSid}/Transcriptions/x`,
                },
              };
              if (opts.transcription === "first") {
                result.exchanges.push(
                  await this.post(transcription.url, {
                    AccountSid: this.accountSid,
                    CallSid: callSid,
                    ...transcription.params,
                  }),
                );
              } else if (opts.transcription === "before-recording-callback") {
                callbacks.unshift(transcription);
              } else callbacks.push(transcription);
            }
            pendingCallbacks.push(...callbacks);
            if (action.thenHangup) {
              result.end = "caller-hung-up";
              base.CallStatus = "completed";
            }
            url = resolve(verb.attrs.action);
            extra = { ...recording, Digits: action.thenHangup ? "hangup" : "#" };
            if (action.thenHangup) {
              // Twilio still posts the action; its TwiML is not executed.
              result.exchanges.push(await this.post(url, { ...base, ...extra }));
              break documents;
            }
            continue documents;
          }
          case "Redirect":
            url = resolve(verb.text);
            continue documents;
          case "Hangup":
            break documents;
          case "Reject":
            result.end = "rejected";
            result.finalStatus = verb.attrs.reason === "rejected" ? "canceled" : "busy";
            break documents;
          default:
            throw new Error(`driver does not know <${verb.verb}>`);
        }
      }
      // End of the document: Twilio hangs up.
      break;
    }

    const postCallbacks = async () => {
      for (const cb of pendingCallbacks) {
        result.exchanges.push(
          await this.post(cb.url, { AccountSid: this.accountSid, CallSid: callSid, ...cb.params }),
        );
      }
    };
    if (opts.backgroundCallbacks) {
      result.callbacks = postCallbacks();
      return result;
    }
    await postCallbacks();
    if (opts.statusCallbacks) {
      for (const status of this.statusSequence(result)) {
        result.exchanges.push(await this.postStatus(callSid, status, { from, to }));
      }
    }
    return result;
  }

  /** The status callbacks Twilio sends for a call that ended this way. */
  statusSequence(result: CallResult): string[] {
    return result.end === "rejected"
      ? [result.finalStatus]
      : ["ringing", "in-progress", "completed"];
  }

  /** One status callback to voice-status (scenarios reorder and repeat these). */
  postStatus(
    callSid: string,
    status: string,
    opts: {
      from?: string;
      to?: string;
      token?: string;
      sequence?: number;
      duration?: number;
      /** Twilio's connection overrides on the status callback URL (`rc=5&rp=5xx`): retry a 5xx. */
      retries?: boolean;
    } = {},
  ): Promise<Exchange> {
    const event = { ringing: "ringing", "in-progress": "answered" }[status] ?? "completed";
    const params: Record<string, string> = {
      AccountSid: this.accountSid,
      ApiVersion: "2010-04-01",
      CallSid: callSid,
      CallStatus: status,
      StatusCallbackEvent: event,
      Direction: "inbound",
      From: opts.from ?? "+15875550000",
      To: opts.to ?? "+15877428885",
      SequenceNumber: String(opts.sequence ?? ["ringing", "in-progress"].indexOf(status) + 1),
      Timestamp: new Date().toUTCString().replace("GMT", "+0000"),
      CallbackSource: "call-progress-events",
    };
    if (event === "completed") params.CallDuration = String(opts.duration ?? 37);
    const url = this.url("voice-status") + (opts.retries ? "#rc=5&rp=5xx" : "");
    return this.post(url, params, { token: opts.token });
  }

  /** Rings each <Number>; runs the agent's screening TwiML on its own leg. */
  async #dial(
    verb: Node,
    docUrl: string,
    base: Record<string, string>,
    parentSid: string,
    agent: AgentBehaviour,
    result: CallResult,
  ): Promise<Record<string, string>> {
    const numberNode = verb.children.find((c) => c.verb === "Number");
    result.dials.push({
      number: numberNode?.text ?? "",
      record: verb.attrs.record,
      callerId: verb.attrs.callerId,
    });
    const dialSid = randomSid("CA");
    const status = { busy: "busy", "no-answer": "no-answer", fails: "failed" }[agent as string];
    if (status) return { DialCallStatus: status, DialCallSid: dialSid, DialCallDuration: "0" };

    let accepted = true;
    if (numberNode?.attrs.url) {
      // The agent's leg: its own call, answered, running the screening TwiML.
      const leg = {
        AccountSid: this.accountSid,
        ApiVersion: "2010-04-01",
        CallSid: dialSid,
        ParentCallSid: parentSid,
        CallStatus: "in-progress",
        Direction: "outbound-dial",
        From: verb.attrs.callerId ?? base.To,
        To: numberNode.text,
        Called: numberNode.text,
        Caller: verb.attrs.callerId ?? base.To,
      };
      let legUrl: string | null = new URL(numberNode.attrs.url, docUrl).toString();
      let legExtra: Record<string, string> = {};
      accepted = false;
      agentLeg: while (legUrl) {
        const exchange = await this.post(legUrl, { ...leg, ...legExtra });
        result.exchanges.push(exchange);
        const current: string = legUrl;
        legUrl = null;
        if (exchange.status !== 200) break;
        const verbs = parseTwiml(exchange.body);
        if (verbs.length === 0) {
          accepted = true; // an empty document ends the leg's TwiML: connect
          break;
        }
        for (const v of verbs) {
          if (v.verb === "Gather") {
            const key = agent === "accepts-with-hash" ? "#" : agent === "accepts" ? "1" : "";
            // The finishOnKey ends input without being a digit: alone, it is no input.
            const finish = v.attrs.finishOnKey ?? "#";
            if (key && key !== finish) {
              legUrl = new URL(v.attrs.action ?? current, current).toString();
              legExtra = { Digits: key, FinishedOnKey: "" };
              continue agentLeg;
            }
            continue; // no key: fall through
          }
          if (v.verb === "Hangup" || v.verb === "Reject") break agentLeg;
        }
        accepted = true; // the leg's TwiML ran out without hanging up: connect
      }
    }
    return {
      DialCallStatus: "completed",
      DialCallSid: dialSid,
      DialCallDuration: accepted ? "42" : "4",
    };
  }
}
