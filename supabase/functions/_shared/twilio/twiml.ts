/**
 * A small TwiML builder. Every text and attribute value is escaped, and
 * characters XML 1.0 forbids are dropped, so a caller's input or a database
 * value can never break the document (Twilio answers unparseable TwiML with
 * error 12100 and the caller hears "an application error has occurred").
 */

export type AttrValue = string | number | boolean | undefined;

/** One TwiML verb or noun, with its attributes and children. */
export interface TwimlNode {
  verb: string;
  attrs?: Record<string, AttrValue>;
  children?: (TwimlNode | string)[];
}

// Control characters other than tab, newline and carriage return, lone
// surrogates, and U+FFFE/U+FFFF are not allowed anywhere in XML 1.0.
const NOT_XML =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function escapeText(value: string): string {
  return value.replace(NOT_XML, "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(
    />/g,
    "&gt;",
  );
}

function escapeAttr(value: string): string {
  return escapeText(value).replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

function renderNode(node: TwimlNode | string): string {
  if (typeof node === "string") return escapeText(node);
  let attrs = "";
  for (const [name, value] of Object.entries(node.attrs ?? {})) {
    if (value === undefined) continue;
    attrs += ` ${name}="${escapeAttr(String(value))}"`;
  }
  const children = node.children ?? [];
  if (children.length === 0) return `<${node.verb}${attrs}/>`;
  return `<${node.verb}${attrs}>${children.map(renderNode).join("")}</${node.verb}>`;
}

/** The whole document: `<?xml …?><Response>…</Response>`. */
export function renderTwiml(verbs: TwimlNode[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Response>${
    verbs.map(renderNode).join("")
  }</Response>`;
}

/** An HTTP response carrying the TwiML document. */
export function twimlResponse(
  verbs: TwimlNode[],
  init: { status?: number; headers?: HeadersInit } = {},
): Response {
  const headers = new Headers(init.headers);
  headers.set("content-type", "text/xml; charset=utf-8");
  return new Response(renderTwiml(verbs), { status: init.status ?? 200, headers });
}

type Attrs = Record<string, AttrValue>;

export const say = (text: string, attrs?: Attrs): TwimlNode => ({
  verb: "Say",
  attrs,
  children: [text],
});
export const play = (url: string, attrs?: Attrs): TwimlNode => ({
  verb: "Play",
  attrs,
  children: [url],
});
export const pause = (seconds: number): TwimlNode => ({
  verb: "Pause",
  attrs: { length: seconds },
});
export const gather = (attrs: Attrs, children: TwimlNode[] = []): TwimlNode => ({
  verb: "Gather",
  attrs,
  children,
});
export const dial = (attrs: Attrs, children: (TwimlNode | string)[] = []): TwimlNode => ({
  verb: "Dial",
  attrs,
  children,
});
export const number = (e164: string, attrs?: Attrs): TwimlNode => ({
  verb: "Number",
  attrs,
  children: [e164],
});
export const record = (attrs: Attrs): TwimlNode => ({ verb: "Record", attrs });
export const redirect = (url: string, attrs?: Attrs): TwimlNode => ({
  verb: "Redirect",
  attrs,
  children: [url],
});
export const hangup = (): TwimlNode => ({ verb: "Hangup" });
export const reject = (attrs?: Attrs): TwimlNode => ({ verb: "Reject", attrs });
/** Messaging: the text to send back to the sender of an inbound message. */
export const message = (text: string, attrs?: Attrs): TwimlNode => ({
  verb: "Message",
  attrs,
  children: [text],
});
